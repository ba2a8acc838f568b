package io.p11kms.server.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.protobuf.ByteString;
import com.google.protobuf.Descriptors.EnumValueDescriptor;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ClientCalls;
import io.p11kms.proto.v1.KeyManagementServiceGrpc;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.ParseResult;

/**
 * Adds one subcommand per RPC of {@code kms.v1.KeyManagementService} to the {@code kms} command,
 * from the service's descriptor, so that every RPC (including ones added later) is callable: {@code
 * p11kms kms generate-data-key --key-id alias/app --key-spec AES_256}.
 *
 * <p>Each field of the request is an option named after it ({@code key_id} -> {@code --key-id}):
 * text as is; bytes as base64, or {@code fileb://PATH}, or {@code --<field>-file PATH}; enums by
 * value name; maps as repeated {@code key=value} or a JSON object; messages and lists of messages
 * as JSON. {@code --cli-input-json} takes the whole request as JSON. The response is printed as
 * JSON (bytes in base64); {@code --<field>-out PATH} writes a bytes field raw to a file instead.
 */
public final class RpcCommands implements CommandLine.IModelTransformer {
  private static final ObjectMapper JSON = new ObjectMapper();

  @Override
  public CommandSpec transform(CommandSpec kms) {
    for (MethodDescriptor<?, ?> method :
        KeyManagementServiceGrpc.getServiceDescriptor().getMethods()) {
      if (method.getType() != MethodDescriptor.MethodType.UNARY) {
        continue;
      }
      RpcCommand command = new RpcCommand(method);
      CommandSpec spec = CommandSpec.wrapWithoutInspection(command);
      command.spec = spec;
      spec.mixinStandardHelpOptions(true);
      spec.usageMessage().description("Calls " + method.getBareMethodName() + ".");
      spec.addMixin("connection", CommandSpec.forAnnotatedObject(command.connection));
      for (FieldDescriptor field : command.prototype.getDescriptorForType().getFields()) {
        addOptions(spec, field);
      }
      for (FieldDescriptor field : command.responsePrototype.getDescriptorForType().getFields()) {
        if (field.getType() == FieldDescriptor.Type.BYTES && !field.isRepeated()) {
          spec.addOption(
              OptionSpec.builder(optionName(field) + "-out")
                  .type(Path.class)
                  .paramLabel("PATH")
                  .description("Write the response's " + field.getName() + " raw to PATH.")
                  .build());
        }
      }
      spec.addOption(
          OptionSpec.builder("--cli-input-json")
              .type(String.class)
              .paramLabel("JSON")
              .description("The whole request as JSON (options given as well override it).")
              .build());
      kms.addSubcommand(kebab(method.getBareMethodName()), new CommandLine(spec));
    }
    return kms;
  }

  private static void addOptions(CommandSpec spec, FieldDescriptor field) {
    String name = optionName(field);
    boolean many = field.isRepeated();
    OptionSpec.Builder option = OptionSpec.builder(name).paramLabel(label(field));
    if (many) {
      option.type(List.class).auxiliaryTypes(String.class);
    } else if (field.getType() == FieldDescriptor.Type.BOOL) {
      option.type(Boolean.class).arity("0..1");
    } else {
      option.type(String.class);
    }
    option.description(describe(field));
    spec.addOption(option.build());
    if (field.getType() == FieldDescriptor.Type.BYTES && !many) {
      spec.addOption(
          OptionSpec.builder(name + "-file")
              .type(Path.class)
              .paramLabel("PATH")
              .description("Read " + field.getName() + " raw from PATH.")
              .build());
    }
  }

  private static String label(FieldDescriptor field) {
    if (field.isMapField()) {
      return "KEY=VALUE";
    }
    return switch (field.getJavaType()) {
      case BYTE_STRING -> "BASE64|fileb://PATH";
      case ENUM -> "NAME";
      case MESSAGE -> "JSON";
      case BOOLEAN -> "true|false";
      case STRING -> "TEXT";
      default -> "NUMBER";
    };
  }

  private static String describe(FieldDescriptor field) {
    if (field.getJavaType() == FieldDescriptor.JavaType.ENUM) {
      return "One of: " + valueNames(field) + ".";
    }
    if (field.isMapField()) {
      return "Repeat for each pair, or give one JSON object.";
    }
    if (field.isRepeated() && field.getJavaType() == FieldDescriptor.JavaType.MESSAGE) {
      return "A JSON list, or repeat with one JSON object each.";
    }
    return field.isRepeated() ? "Repeat for each value." : "";
  }

  /** The values an enum field takes, by AWS's names, comma-separated. */
  private static String valueNames(FieldDescriptor field) {
    List<String> names = new ArrayList<>();
    for (EnumValueDescriptor v : field.getEnumType().getValues()) {
      if (v.getNumber() != 0) {
        names.add(AwsNames.of(v));
      }
    }
    return String.join(", ", names);
  }

  static String optionName(FieldDescriptor field) {
    return "--" + field.getName().replace('_', '-');
  }

  static String kebab(String camel) {
    return camel.replaceAll("([a-z0-9])([A-Z])", "$1-$2").toLowerCase(Locale.ROOT);
  }

  /** One RPC as a command. */
  static final class RpcCommand implements Callable<Integer> {
    final MethodDescriptor<?, ?> method;
    final Message prototype;
    final Message responsePrototype;
    final ConnectionOptions connection = new ConnectionOptions();
    CommandSpec spec;

    RpcCommand(MethodDescriptor<?, ?> method) {
      this.method = method;
      this.prototype = prototypeOf(method.getRequestMarshaller());
      this.responsePrototype = prototypeOf(method.getResponseMarshaller());
    }

    private static Message prototypeOf(MethodDescriptor.Marshaller<?> marshaller) {
      return (Message) ((MethodDescriptor.PrototypeMarshaller<?>) marshaller).getMessagePrototype();
    }

    @Override
    public Integer call() {
      PrintStream out = System.out;
      Message request;
      try {
        request = buildRequest(spec.commandLine().getParseResult());
      } catch (CliException e) {
        System.err.println("p11kms kms " + spec.name() + ": " + e.getMessage());
        return Calls.EXIT_LOCAL;
      }
      ManagedChannel channel;
      try {
        channel = connection.open();
      } catch (CliException e) {
        System.err.println("p11kms kms " + spec.name() + ": " + e.getMessage());
        return Calls.EXIT_LOCAL;
      }
      try {
        Message response = invoke(channel, request);
        Message.Builder printed = response.toBuilder();
        ParseResult parsed = spec.commandLine().getParseResult();
        for (FieldDescriptor field : response.getDescriptorForType().getFields()) {
          String outOption = optionName(field) + "-out";
          if (parsed.hasMatchedOption(outOption)) {
            Path path = parsed.matchedOptionValue(outOption, (Path) null);
            Files.write(path, ((ByteString) response.getField(field)).toByteArray());
            printed.clearField(field);
          }
        }
        out.println(AwsNames.json(printed));
        out.flush();
        return 0;
      } catch (StatusRuntimeException e) {
        return Calls.report(e, method.getBareMethodName(), connection.endpoint(), System.err);
      } catch (IOException e) {
        System.err.println("p11kms kms " + spec.name() + ": " + Calls.describe(e, null));
        return Calls.EXIT_LOCAL;
      } finally {
        ConnectionOptions.shutdown(channel);
      }
    }

    @SuppressWarnings("unchecked")
    private Message invoke(ManagedChannel channel, Message request) {
      MethodDescriptor<Message, Message> m = (MethodDescriptor<Message, Message>) method;
      return ClientCalls.blockingUnaryCall(
          channel,
          m,
          CallOptions.DEFAULT.withDeadlineAfter(connection.timeoutSeconds(), TimeUnit.SECONDS),
          request);
    }

    Message buildRequest(ParseResult parsed) {
      Message.Builder builder = prototype.newBuilderForType();
      if (parsed.hasMatchedOption("--cli-input-json")) {
        mergeJson(builder, parsed.matchedOptionValue("--cli-input-json", ""));
      }
      for (FieldDescriptor field : prototype.getDescriptorForType().getFields()) {
        String name = optionName(field);
        if (parsed.hasMatchedOption(name + "-file")) {
          Path path = parsed.matchedOptionValue(name + "-file", (Path) null);
          builder.setField(field, ByteString.copyFrom(readFile(path)));
        }
        if (!parsed.hasMatchedOption(name)) {
          continue;
        }
        if (field.isMapField()) {
          setMap(builder, field, parsed.matchedOptionValue(name, List.<String>of()));
        } else if (field.isRepeated()) {
          builder.clearField(field);
          for (String value : parsed.<List<String>>matchedOptionValue(name, List.of())) {
            if (field.getJavaType() == FieldDescriptor.JavaType.MESSAGE) {
              String list = value.trim().startsWith("[") ? value : "[" + value + "]";
              mergeJson(builder, "{\"" + field.getJsonName() + "\":" + list + "}");
            } else {
              builder.addRepeatedField(field, convert(field, value));
            }
          }
        } else if (field.getJavaType() == FieldDescriptor.JavaType.MESSAGE) {
          builder.clearField(field);
          mergeJson(
              builder,
              "{\"" + field.getJsonName() + "\":" + parsed.matchedOptionValue(name, "") + "}");
        } else if (field.getType() == FieldDescriptor.Type.BOOL) {
          builder.setField(field, parsed.matchedOptionValue(name, Boolean.TRUE));
        } else {
          builder.setField(field, convert(field, parsed.matchedOptionValue(name, "")));
        }
      }
      return builder.build();
    }

    private static void setMap(Message.Builder builder, FieldDescriptor field, List<String> v) {
      ObjectNode map = JSON.createObjectNode();
      for (String value : v) {
        String trimmed = value.trim();
        if (trimmed.startsWith("{")) {
          try {
            JSON.readTree(trimmed)
                .fields()
                .forEachRemaining(e -> map.set(e.getKey(), e.getValue()));
          } catch (IOException e) {
            throw new CliException(optionName(field) + ": not a JSON object");
          }
        } else {
          int eq = value.indexOf('=');
          if (eq < 1) {
            throw new CliException(optionName(field) + " takes KEY=VALUE, was '" + value + "'");
          }
          map.put(value.substring(0, eq), value.substring(eq + 1));
        }
      }
      ObjectNode wrapper = JSON.createObjectNode();
      wrapper.set(field.getJsonName(), map);
      mergeJson(builder, wrapper.toString());
    }

    private static Object convert(FieldDescriptor field, String value) {
      try {
        return switch (field.getJavaType()) {
          case STRING -> value;
          case BYTE_STRING -> ByteString.copyFrom(bytes(optionName(field), value));
          case BOOLEAN -> Boolean.parseBoolean(value);
          case INT -> Integer.parseInt(value);
          case LONG -> Long.parseLong(value);
          case FLOAT -> Float.parseFloat(value);
          case DOUBLE -> Double.parseDouble(value);
          case ENUM -> enumValue(field, value);
          case MESSAGE -> throw new CliException(optionName(field) + " takes JSON");
        };
      } catch (NumberFormatException e) {
        throw new CliException(optionName(field) + " takes a number, was '" + value + "'");
      }
    }

    private static EnumValueDescriptor enumValue(FieldDescriptor field, String value) {
      return AwsNames.parse(field.getEnumType(), value)
          .orElseThrow(
              () ->
                  new CliException(
                      optionName(field)
                          + ": unknown value '"
                          + value
                          + "'; one of: "
                          + valueNames(field)));
    }

    /** {@code fileb://PATH} reads raw bytes; anything else is base64. */
    static byte[] bytes(String option, String value) {
      if (value.startsWith("fileb://")) {
        return readFile(Path.of(value.substring("fileb://".length())));
      }
      try {
        return Base64.getDecoder().decode(value.trim());
      } catch (IllegalArgumentException e) {
        throw new CliException(option + " takes base64 or fileb://PATH");
      }
    }

    private static byte[] readFile(Path path) {
      try {
        return Files.readAllBytes(path);
      } catch (IOException e) {
        throw new CliException("cannot read " + Calls.describe(e, path));
      }
    }

    private static void mergeJson(Message.Builder builder, String json) {
      try {
        AwsNames.merge(json, builder);
      } catch (InvalidProtocolBufferException e) {
        throw new CliException("bad JSON input: " + e.getMessage());
      }
    }
  }
}
