package io.p11kms.bench;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Point (x), the HTTP front ends beside gRPC, with one key: Encrypt over the AWS KMS JSON API and
 * over gRPC in alternated pairs at {@value #JSON_IN_FLIGHT} in flight on the same key (their
 * throughput ratio against 0.9, and the server's and the client's CPU per call on each), and the
 * XKS proxy API's Encrypt at {@value #XKS_IN_FLIGHT} in flight against a 10 ms p99 (AWS KMS gives a
 * proxy 250 ms).
 */
final class FrontEndPoints {
  static final int JSON_IN_FLIGHT = 64;
  static final double JSON_TARGET_RATIO = 0.9;

  /** gRPC and JSON points measured alternately, this many of each. */
  static final int PAIRS = 2;

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
   * Encrypt over the JSON API and over gRPC, each warmed first, then measured in {@value #PAIRS}
   * alternated pairs (gRPC, JSON, gRPC, JSON) so that both see the same stretch of the machine's
   * time; both on the first key {@code calls} made. The ratio is the ratio of the sums; each pair's
   * ratio is printed beside it.
   */
  void awsJson(AwsJsonCalls json, KmsCalls calls, int plaintextBytes) throws InterruptedException {
    System.out.println(
        "(x) front ends: Encrypt over the AWS JSON API (SigV4-signed, HTTP/1.1) and over gRPC,"
            + " alternated");
    var overJson = json.encrypt(calls.keyId(0), plaintextBytes);
    var overGrpc = calls.encrypt(KeyChoice.uniform(1));
    ClosedLoop.warmUntilCompiled("Encrypt", JSON_IN_FLIGHT, timing, cpu, overGrpc);
    ClosedLoop.warmUntilCompiled("JsonEncrypt", JSON_IN_FLIGHT, timing, cpu, overJson);
    List<Point> grpc = new ArrayList<>();
    List<Point> overHttp = new ArrayList<>();
    for (int i = 0; i < PAIRS; i++) {
      grpc.add(ClosedLoop.run("frontend", "Encrypt", JSON_IN_FLIGHT, 1, timing, cpu, overGrpc));
      results.add(grpc.get(i));
      overHttp.add(
          ClosedLoop.run("frontend", "JsonEncrypt", JSON_IN_FLIGHT, 1, timing, cpu, overJson));
      results.add(overHttp.get(i));
    }
    PairedPoints pairs = new PairedPoints(grpc, overHttp);
    double ratio = pairs.ratio();
    results.summary(
        "ratio AWS JSON / gRPC Encrypt at " + JSON_IN_FLIGHT + " in flight (" + PAIRS + " pairs)",
        ratio,
        "x",
        ">= " + JSON_TARGET_RATIO,
        ratio >= JSON_TARGET_RATIO);
    List<Double> each = pairs.pairRatios();
    for (int i = 0; i < each.size(); i++) {
      results.summary(
          "ratio AWS JSON / gRPC, pair " + (i + 1) + " of " + PAIRS, each.get(i), "x", null, null);
    }
    results.summary(
        "server CPU per Encrypt over gRPC at " + JSON_IN_FLIGHT + " in flight",
        Math.round(pairs.firstServerMicrosPerCall()),
        "us",
        null,
        null);
    results.summary(
        "server CPU per Encrypt over the AWS JSON API at " + JSON_IN_FLIGHT + " in flight",
        Math.round(pairs.secondServerMicrosPerCall()),
        "us",
        null,
        null);
    results.summary(
        "client CPU per Encrypt over gRPC at " + JSON_IN_FLIGHT + " in flight",
        Math.round(pairs.firstClientMicrosPerCall()),
        "us",
        null,
        null);
    results.summary(
        "client CPU per Encrypt over the AWS JSON API at " + JSON_IN_FLIGHT + " in flight",
        Math.round(pairs.secondClientMicrosPerCall()),
        "us",
        null,
        null);
    results.summary(
        "AWS JSON Encrypt p99 at " + JSON_IN_FLIGHT + " in flight (the higher of the pairs)",
        pairs.secondWorstP99Millis(),
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
