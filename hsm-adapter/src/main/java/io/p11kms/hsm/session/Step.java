package io.p11kms.hsm.session;

/**
 * The step a request is in, so that its failure is mapped by what it means there: none yet (the
 * operation's name stands for it), then each {@link TokenStep} the request enters.
 */
public final class Step {
  private final String operation;
  private TokenStep current;

  public Step(String operation) {
    this.operation = operation;
  }

  /** Enters {@code step}; returns it, so that a PKCS#11 call can name it at once. */
  public <S extends TokenStep> S enter(S step) {
    current = step;
    return step;
  }

  /** Whether the request is in {@code step} now. */
  public boolean is(TokenStep step) {
    return current == step;
  }

  /** The step's name for an error message: the operation's until a step is entered. */
  public String label() {
    return current == null ? operation : current.label();
  }
}
