package io.p11kms.server.awsjson;

/**
 * A request refused by the protocol front end itself, before any operation: an unknown target, a
 * body that is not the operation's JSON, a body too large, a request that does not authenticate.
 * Its message goes on the wire; it names the rule, never a secret.
 */
final class WireException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  static final String UNKNOWN_OPERATION = "UnknownOperationException";
  static final String SERIALIZATION = "SerializationException";
  static final String VALIDATION = "ValidationException";

  private final String awsName;

  WireException(String awsName, String message) {
    super(message, null, false, false);
    this.awsName = awsName;
  }

  /** The AWS exception name, the error's {@code __type}. */
  String awsName() {
    return awsName;
  }
}
