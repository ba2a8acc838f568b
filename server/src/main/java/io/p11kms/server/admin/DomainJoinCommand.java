package io.p11kms.server.admin;

import io.p11kms.hsm.domain.DomainJoin;
import io.p11kms.hsm.domain.DomainKeyAttributes;
import io.p11kms.hsm.domain.DomainKeyBundle;
import io.p11kms.hsm.domain.TransportKey;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code p11kms domain-join}: copies the domain keys of one token (the source) to a new server's
 * token (the target), wrapped under a transport key the target made, as each token's security
 * officer. On the target {@code begin}, on the source {@code export}, on the target {@code finish}.
 * The files carry a public key one way and wrapped bytes the other; each step prints a fingerprint
 * that the other side's operator must be told and give to the next step ({@code
 * --expect-fingerprint}, required): it is what tells the genuine file from one swapped on the way.
 * The SO PIN comes from a file or an environment variable, never from the command line.
 *
 * <p>Exit codes: 0 done, 1 the ceremony failed (the message says why), 2 bad options or files
 * ({@link CeremonyStep}).
 */
@Command(
    name = "domain-join",
    description = "Copy the domain keys to another HSM, wrapped, as the tokens' SOs.",
    subcommands = {
      DomainJoinCommand.Begin.class,
      DomainJoinCommand.Export.class,
      DomainJoinCommand.Finish.class,
      DomainJoinCommand.Abort.class,
      DomainJoinCommand.ListKeys.class,
    })
public final class DomainJoinCommand {
  private DomainJoinCommand() {}

  @Command(
      name = "begin",
      description =
          "On the joining (target) token: create the transport key pair; write its public key.")
  static final class Begin extends CeremonyStep {
    @Mixin CeremonyStep.SoPin so;

    @Option(names = "--out", required = true, description = "Where to write the public key.")
    Path out;

    @Override
    int run(Path module, String tokenLabel) {
      refuseExisting(out);
      char[] pin = so.read();
      TransportKey key;
      try {
        key = DomainJoin.begin(module, tokenLabel, pin);
      } finally {
        Arrays.fill(pin, '\0');
      }
      key.write(out);
      System.out.println("transport key " + key.fingerprint() + " written to " + out);
      System.out.println(
          "read this fingerprint to the source's operator; they check it before export");
      return 0;
    }
  }

  @Command(
      name = "export",
      description = "On the source token: wrap every domain key under the target's transport key.")
  static final class Export extends CeremonyStep {
    @Mixin CeremonyStep.SoPin so;

    @Option(
        names = "--transport-key",
        required = true,
        description = "The file domain-join begin wrote on the target.")
    Path transportKey;

    @Option(
        names = "--expect-fingerprint",
        required = true,
        description =
            "The fingerprint begin printed on the target, read out by its operator; the transport"
                + " key is refused if it differs.")
    String expectFingerprint;

    @Option(
        names = {"--skip-outdated", "--skip-unextractable"},
        description =
            "Leave out domain keys that cannot be copied (not extractable, or made with the"
                + " attributes of an older version).")
    boolean skipOutdated;

    @Option(names = "--out", required = true, description = "Where to write the wrapped keys.")
    Path out;

    @Override
    int run(Path module, String tokenLabel) {
      refuseExisting(out);
      TransportKey key = TransportKey.read(transportKey);
      System.out.println("transport key " + key.fingerprint());
      char[] pin = so.read();
      DomainKeyBundle bundle;
      try {
        bundle = DomainJoin.export(module, tokenLabel, pin, key, expectFingerprint, skipOutdated);
      } finally {
        Arrays.fill(pin, '\0');
      }
      bundle.write(out);
      for (DomainKeyBundle.Entry entry : bundle.keys()) {
        System.out.println("wrapped " + entry.attributes().label());
      }
      System.out.println(
          bundle.keys().size()
              + " domain keys wrapped (RSA-OAEP "
              + bundle.oaepHash()
              + ") to "
              + out);
      System.out.println("bundle " + bundle.fingerprint());
      System.out.println(
          "read this fingerprint to the target's operator; finish refuses the bundle without it");
      return 0;
    }
  }

  @Command(
      name = "finish",
      description =
          "On the target token: check the bundle, land each domain key from its kind's template,"
              + " prove them.")
  static final class Finish extends CeremonyStep {
    @Mixin CeremonyStep.SoPin so;

    @Option(names = "--in", required = true, description = "The file export wrote.")
    Path in;

    @Option(
        names = "--expect-fingerprint",
        required = true,
        description =
            "The bundle fingerprint export printed on the source, read out by its operator; the"
                + " bundle is refused if it differs.")
    String expectFingerprint;

    @Override
    int run(Path module, String tokenLabel) {
      DomainKeyBundle bundle = DomainKeyBundle.read(in);
      char[] pin = so.read();
      List<DomainJoin.Joined> joined;
      try {
        joined = DomainJoin.finish(module, tokenLabel, pin, bundle, expectFingerprint);
      } finally {
        Arrays.fill(pin, '\0');
      }
      for (DomainJoin.Joined key : joined) {
        System.out.println(
            (key.alreadyPresent() ? "already present, proved the same: " : "joined and proved: ")
                + key.label());
      }
      System.out.println("domain join finished on token " + tokenLabel);
      return 0;
    }
  }

  @Command(
      name = "abort",
      description = "On the target token: destroy the transport key of an unfinished join.")
  static final class Abort extends CeremonyStep {
    @Mixin CeremonyStep.SoPin so;

    @Override
    int run(Path module, String tokenLabel) {
      char[] pin = so.read();
      try {
        boolean found = DomainJoin.abort(module, tokenLabel, pin);
        System.out.println(
            found ? "transport key destroyed" : "no domain join under way on " + tokenLabel);
      } finally {
        Arrays.fill(pin, '\0');
      }
      return 0;
    }
  }

  @Command(
      name = "list",
      description =
          "Print every domain key's attributes (no PIN needed), to compare two tokens line by line.")
  static final class ListKeys extends CeremonyStep {
    @Override
    int run(Path module, String tokenLabel) {
      for (DomainKeyAttributes key : DomainJoin.list(module, tokenLabel)) {
        System.out.println(key.label() + " " + key.text());
      }
      return 0;
    }
  }
}
