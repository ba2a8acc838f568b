package io.p11kms.hsm;

import io.p11kms.hsm.domain.RegionTransfers;
import io.p11kms.hsm.domain.TransportKey;
import io.p11kms.hsm.keys.AsymmetricChecks;
import io.p11kms.hsm.session.StepCalls;

/**
 * {@link RegionTransport} over a PKCS#11 token: checks each request's arguments before any token
 * call and runs it through {@link RegionTransfers} as {@link StepCalls}.
 */
final class Pkcs11RegionTransport implements RegionTransport {
  private final StepCalls calls;
  private final RegionTransfers regions;

  Pkcs11RegionTransport(StepCalls calls, RegionTransfers regions) {
    this.calls = calls;
    this.regions = regions;
  }

  @Override
  public TransportKey regionTransportKey() {
    return calls.run(
        "region transport key",
        StepCalls.RSA_GENERATION_DEADLINE_FACTOR,
        (session, step) -> regions.transportKey(session, step));
  }

  @Override
  public RegionWrappedKey wrapForRegion(String region, WrappedKey ekt) {
    RegionTransfers.requireRegion(region);
    AsymmetricChecks.require(ekt != null, "a backing key is required");
    return calls.run(
        "wrap for region", (session, step) -> regions.wrapFor(session, step, region, ekt));
  }

  @Override
  public WrappedKey receiveFromRegion(RegionWrappedKey sent) {
    AsymmetricChecks.require(sent != null, "a region-wrapped key is required");
    return calls.run(
        "receive from region", (session, step) -> regions.receive(session, step, sent));
  }
}
