package io.p11kms.server.admin;

import io.p11kms.hsm.Pkcs11Hsm;
import io.p11kms.hsm.domain.RegionPeering;
import io.p11kms.hsm.domain.TransportKey;
import io.p11kms.server.config.ServerConfig;
import java.nio.file.Path;
import java.util.Arrays;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code p11kms region}: the peering of two regions' tokens for multi-Region keys. On the region
 * that receives replicas, {@code transport-key} writes its token's transport public key and prints
 * its fingerprint; on the region that sends them, its SO checks that fingerprint with the other
 * operator and runs {@code trust}. {@code list} shows the regions trusted; {@code untrust} removes
 * one. The SO PIN comes from a file or an environment variable, never from the command line.
 *
 * <p>Exit codes: 0 done, 1 the step failed (the message says why), 2 bad options or files.
 */
@Command(
    name = "region",
    description = "Peer this region's token with another region's, for multi-Region keys.",
    subcommands = {
      RegionCommand.TransportKeyStep.class,
      RegionCommand.Trust.class,
      RegionCommand.Untrust.class,
      RegionCommand.ListPeers.class,
    })
public final class RegionCommand {
  private RegionCommand() {}

  @Command(
      name = "transport-key",
      description =
          "On the region that receives replicas: make its token's transport key (once; it is kept"
              + " in the token and can only unwrap backing keys), write its public key, print its"
              + " fingerprint.")
  static final class TransportKeyStep extends CeremonyStep {
    @Option(names = "--out", required = true, description = "Where to write the public key.")
    Path out;

    @Override
    int run(Path module, String tokenLabel) {
      if (config == null) {
        throw new IllegalArgumentException(
            "--config is required: the server's user (its PIN source) makes the transport key");
      }
      refuseExisting(out);
      TransportKey key;
      try (Pkcs11Hsm hsm = Pkcs11Hsm.open(ServerConfig.load(config).hsm().hsmConfig())) {
        key = hsm.regionTransportKey();
      }
      key.write(out);
      System.out.println("region transport key " + key.fingerprint() + " written to " + out);
      System.out.println(
          "read this fingerprint to the operator of each region that sends replicas here; they"
              + " check it in region trust");
      return 0;
    }
  }

  @Command(
      name = "trust",
      description =
          "On the region that sends replicas, as its token's SO: trust the other region's"
              + " transport key, once its fingerprint is confirmed.")
  static final class Trust extends CeremonyStep {
    @Mixin CeremonyStep.SoPin so;

    @Option(
        names = "--region",
        required = true,
        description = "The other region's name (its arn.region, as in region.peers).")
    String region;

    @Option(
        names = "--transport-key",
        required = true,
        description = "The file region transport-key wrote in the other region.")
    Path transportKey;

    @Option(
        names = "--expect-fingerprint",
        required = true,
        description =
            "The fingerprint region transport-key printed there, read out by its operator; the"
                + " key is refused if it differs.")
    String expectFingerprint;

    @Override
    int run(Path module, String tokenLabel) {
      TransportKey key = TransportKey.read(transportKey);
      char[] pin = so.read();
      boolean added;
      try {
        added = RegionPeering.trust(module, tokenLabel, pin, region, key, expectFingerprint);
      } finally {
        Arrays.fill(pin, '\0');
      }
      System.out.println(
          (added
                  ? "region " + region + " trusted: "
                  : "region " + region + " was trusted already: ")
              + key.fingerprint()
              + " on token "
              + tokenLabel);
      return 0;
    }
  }

  @Command(
      name = "untrust",
      description = "As the token's SO: destroy a region's trusted transport key.")
  static final class Untrust extends CeremonyStep {
    @Mixin CeremonyStep.SoPin so;

    @Option(names = "--region", required = true, description = "The region's name.")
    String region;

    @Override
    int run(Path module, String tokenLabel) {
      char[] pin = so.read();
      try {
        boolean found = RegionPeering.untrust(module, tokenLabel, pin, region);
        System.out.println(
            found
                ? "region " + region + " untrusted on token " + tokenLabel
                : "region " + region + " is not trusted on token " + tokenLabel);
      } finally {
        Arrays.fill(pin, '\0');
      }
      return 0;
    }
  }

  @Command(
      name = "list",
      description = "Print each region trusted on the token and its fingerprint (no PIN needed).")
  static final class ListPeers extends CeremonyStep {
    @Override
    int run(Path module, String tokenLabel) {
      for (RegionPeering.Peer peer : RegionPeering.list(module, tokenLabel)) {
        System.out.println(peer.region() + " " + peer.fingerprint());
      }
      return 0;
    }
  }
}
