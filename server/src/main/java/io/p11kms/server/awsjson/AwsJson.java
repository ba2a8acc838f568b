package io.p11kms.server.awsjson;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.MapperFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.SerializerProvider;
import com.fasterxml.jackson.databind.cfg.CoercionAction;
import com.fasterxml.jackson.databind.cfg.CoercionInputShape;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.module.SimpleModule;
import com.fasterxml.jackson.databind.ser.std.StdSerializer;
import com.fasterxml.jackson.databind.type.LogicalType;
import java.io.IOException;
import java.math.BigDecimal;
import java.time.Instant;

/**
 * The JSON of AWS's JSON 1.1 protocol as the KMS service model defines it: members named as AWS
 * names them (UpperCamelCase, from the records' component names), blobs as base64 strings,
 * timestamps as epoch seconds (a number, milliseconds as its fraction), absent members left out.
 * Strict on input: a member of the wrong JSON type (a number for a string, a string for a number or
 * a boolean) and a member given twice are refused, not coerced; members this service does not read
 * are ignored, as a newer client may send them.
 */
final class AwsJson {
  static final String CONTENT_TYPE = "application/x-amz-json-1.1";

  private AwsJson() {}

  static ObjectMapper mapper() {
    SimpleModule instants = new SimpleModule("epoch-seconds");
    instants.addSerializer(Instant.class, new EpochSeconds());
    ObjectMapper mapper =
        JsonMapper.builder()
            .propertyNamingStrategy(PropertyNamingStrategies.UPPER_CAMEL_CASE)
            .serializationInclusion(JsonInclude.Include.NON_NULL)
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
            .disable(DeserializationFeature.ACCEPT_FLOAT_AS_INT)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .disable(MapperFeature.ALLOW_COERCION_OF_SCALARS)
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .disable(JsonParser.Feature.ALLOW_COMMENTS)
            .addModule(instants)
            .build();
    // A number or a boolean where a string belongs is the client's mistake, not a string.
    mapper
        .coercionConfigFor(LogicalType.Textual)
        .setCoercion(CoercionInputShape.Integer, CoercionAction.Fail)
        .setCoercion(CoercionInputShape.Float, CoercionAction.Fail)
        .setCoercion(CoercionInputShape.Boolean, CoercionAction.Fail);
    return mapper;
  }

  /** An instant as AWS's JSON protocol writes a timestamp: epoch seconds, milliseconds after. */
  private static final class EpochSeconds extends StdSerializer<Instant> {
    private static final long serialVersionUID = 1L;

    EpochSeconds() {
      super(Instant.class);
    }

    @Override
    public void serialize(Instant value, JsonGenerator out, SerializerProvider provider)
        throws IOException {
      out.writeNumber(BigDecimal.valueOf(value.toEpochMilli(), 3).stripTrailingZeros());
    }
  }
}
