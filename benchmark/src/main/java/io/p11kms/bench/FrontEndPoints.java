package io.p11kms.bench;

import java.util.Locale;

/**
 * Point (x), the HTTP front ends beside gRPC, with one key: Encrypt over the AWS KMS JSON API and
 * over gRPC back to back at {@value #JSON_IN_FLIGHT} in flight on the same key (their throughput
 * ratio against 0.9, and the server's CPU per call on each), and the XKS proxy API's Encrypt at
 * {@value #XKS_IN_FLIGHT} in flight against a 10 ms p99 (AWS KMS gives a proxy 250 ms).
 */
final class FrontEndPoints {
  static final int JSON_IN_FLIGHT = 64;
  static final double JSON_TARGET_RATIO = 0.9;
  static final int XKS_IN_FLIGHT = 16;
  static final double XKS_TARGET_P99_MILLIS = 10;

  private final Results results;
  private final CpuMeter cpu;
  private final Timing timing;

  FrontEndPoints(Results results, CpuMeter cpu, Timing timing) {
    this.results = results;
    this.cpu = cpu;
    this.timing = timing;
  }

  /**
   * Encrypt over the JSON API and over gRPC, each warmed first, measured one right after the other
   * so that both see the same machine; both on the first key {@code calls} made.
   */
  void awsJson(AwsJsonCalls json, KmsCalls calls, int plaintextBytes) throws InterruptedException {
    System.out.println(
        "(x) front ends: Encrypt over the AWS JSON API (SigV4-signed, HTTP/1.1) and over gRPC");
    var overJson = json.encrypt(calls.keyId(0), plaintextBytes);
    var overGrpc = calls.encrypt(KeyChoice.uniform(1));
    ClosedLoop.warmUp("Encrypt", JSON_IN_FLIGHT, timing, cpu, overGrpc);
    ClosedLoop.warmUp("JsonEncrypt", JSON_IN_FLIGHT, timing, cpu, overJson);
    Point grpc = ClosedLoop.run("frontend", "Encrypt", JSON_IN_FLIGHT, 1, timing, cpu, overGrpc);
    results.add(grpc);
    Point p = ClosedLoop.run("frontend", "JsonEncrypt", JSON_IN_FLIGHT, 1, timing, cpu, overJson);
    results.add(p);
    double ratio = p.opsPerSecond() / grpc.opsPerSecond();
    results.summary(
        "ratio AWS JSON / gRPC Encrypt at " + JSON_IN_FLIGHT + " in flight",
        ratio,
        "x",
        ">= " + JSON_TARGET_RATIO,
        ratio >= JSON_TARGET_RATIO);
    results.summary(
        "server CPU per Encrypt over gRPC at " + JSON_IN_FLIGHT + " in flight",
        Math.round(grpc.serverCpuMicrosPerCall()),
        "us",
        null,
        null);
    results.summary(
        "server CPU per Encrypt over the AWS JSON API at " + JSON_IN_FLIGHT + " in flight",
        Math.round(p.serverCpuMicrosPerCall()),
        "us",
        null,
        null);
    results.summary(
        "AWS JSON Encrypt p99 at " + JSON_IN_FLIGHT + " in flight",
        p.p99Millis(),
        "ms",
        null,
        null);
  }

  /** The XKS proxy API's Encrypt, as AWS KMS calls it (signed JSON over HTTP). */
  void xks(XksCalls xks) throws InterruptedException {
    System.out.println("(x) the XKS proxy API: Encrypt, SigV4-signed JSON over HTTP/1.1");
    ClosedLoop.warmUp("XksEncrypt", XKS_IN_FLIGHT, timing, cpu, xks.encrypt());
    Point p = ClosedLoop.run("xks", "XksEncrypt", XKS_IN_FLIGHT, 1, timing, cpu, xks.encrypt());
    results.add(p);
    results.summary(
        String.format(Locale.ROOT, "XKS Encrypt p99 at %d in flight", XKS_IN_FLIGHT),
        p.p99Millis(),
        "ms",
        "< 10 ms",
        p.p99Millis() < XKS_TARGET_P99_MILLIS);
    results.summary(
        "server CPU per XKS Encrypt at " + XKS_IN_FLIGHT + " in flight",
        Math.round(p.serverCpuMicrosPerCall()),
        "us",
        null,
        null);
  }
}
