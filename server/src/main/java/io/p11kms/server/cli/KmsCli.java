package io.p11kms.server.cli;

import picocli.CommandLine.Command;

/**
 * {@code p11kms kms ...}: a client of the service in the manner of {@code aws kms}. One subcommand
 * per RPC ({@link RpcCommands}), plus {@code encrypt-file} and {@code decrypt-file}.
 *
 * <p>Exit codes: 0 success; 1 a local problem (bad input, unreadable file, a file that fails to
 * decrypt); 2 a usage error; 254 the service answered with an error (printed with its AWS exception
 * name); 255 the service could not be reached.
 */
@Command(
    name = "kms",
    mixinStandardHelpOptions = true,
    modelTransformer = RpcCommands.class,
    subcommands = {EncryptFileCommand.class, DecryptFileCommand.class},
    description = "Call the key management service (like 'aws kms').")
public final class KmsCli {}
