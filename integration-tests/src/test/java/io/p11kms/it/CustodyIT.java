package io.p11kms.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.p11kms.proto.v1.CreateKeyRequest;
import io.p11kms.proto.v1.DataKeySpec;
import io.p11kms.proto.v1.GenerateDataKeyRequest;
import io.p11kms.proto.v1.KeyManagementServiceGrpc.KeyManagementServiceBlockingStub;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** What the database holds: metadata and 40-byte EKTs, never a data key or other key bytes. */
class CustodyIT {
  private static KmsTestServer server;
  private static KeyManagementServiceBlockingStub kms;

  @BeforeAll
  static void startServer() throws Exception {
    server = KmsTestServer.start();
    kms = server.client();
  }

  @AfterAll
  static void stopServer() throws Exception {
    server.close();
  }

  @Test
  void database_holdsOnlyWrappedKeys_andNoDataKeyItHandedOut() throws Exception {
    List<byte[]> dataKeys = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      String keyId =
          kms.createKey(CreateKeyRequest.getDefaultInstance()).getKeyMetadata().getKeyId();
      dataKeys.add(
          kms.generateDataKey(
                  GenerateDataKeyRequest.newBuilder()
                      .setKeyId(keyId)
                      .setKeySpec(DataKeySpec.AES_256)
                      .build())
              .getPlaintext()
              .toByteArray());
    }

    List<String> binaryColumns = new ArrayList<>();
    int ekts = 0;
    try (Connection db = DriverManager.getConnection("jdbc:sqlite:" + server.database());
        Statement tables = db.createStatement();
        ResultSet names =
            tables.executeQuery("SELECT name FROM sqlite_master WHERE type = 'table'")) {
      List<String> tableNames = new ArrayList<>();
      while (names.next()) {
        tableNames.add(names.getString(1));
      }
      for (String table : tableNames) {
        try (Statement s = db.createStatement();
            ResultSet rows = s.executeQuery("SELECT * FROM \"" + table + "\"")) {
          ResultSetMetaData meta = rows.getMetaData();
          while (rows.next()) {
            for (int c = 1; c <= meta.getColumnCount(); c++) {
              if (rows.getObject(c) instanceof byte[] bytes) {
                binaryColumns.add(table + "." + meta.getColumnName(c));
                // RFC 3394 wrap of a 32-byte key: 40 bytes, never 32.
                assertThat(bytes).as("%s.%s", table, meta.getColumnName(c)).hasSize(40);
                ekts++;
              }
            }
          }
        }
      }
    }
    assertThat(ekts).isEqualTo(5);
    assertThat(binaryColumns).allMatch(column -> column.endsWith(".ekt"));

    byte[] files = readAll(server.database());
    for (byte[] dataKey : dataKeys) {
      assertThat(indexOf(files, dataKey))
          .as("a data key found in the database files")
          .isEqualTo(-1);
    }
  }

  /** The database file with its WAL and journal, as they lie on disk. */
  private static byte[] readAll(Path database) throws Exception {
    var out = new java.io.ByteArrayOutputStream();
    try (Stream<Path> files = Files.list(database.getParent())) {
      for (Path f : files.toList()) {
        out.write(Files.readAllBytes(f));
      }
    }
    return out.toByteArray();
  }

  private static int indexOf(byte[] haystack, byte[] needle) {
    outer:
    for (int i = 0; i + needle.length <= haystack.length; i++) {
      for (int j = 0; j < needle.length; j++) {
        if (haystack[i + j] != needle[j]) {
          continue outer;
        }
      }
      return i;
    }
    return -1;
  }
}
