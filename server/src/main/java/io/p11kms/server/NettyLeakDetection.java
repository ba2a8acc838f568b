package io.p11kms.server;

/**
 * Turns off the leak detector of the Netty inside gRPC unless the operator set its level. On by
 * default, it tracks one buffer in 128 and records a stack trace for each one it tracks: about 2%
 * of the server's allocation under load, for a debugging aid (set {@value #LEVEL}{@code =simple} or
 * {@code paranoid} to have it back).
 */
final class NettyLeakDetection {
  /** The level's system property, under the package name grpc-netty-shaded gives Netty. */
  static final String LEVEL = "io.grpc.netty.shaded.io.netty.leakDetection.level";

  private NettyLeakDetection() {}

  /** Call before the first Netty buffer is made: Netty reads the level once. */
  static void offUnlessSet() {
    if (System.getProperty(LEVEL) == null) {
      System.setProperty(LEVEL, "disabled");
    }
  }
}
