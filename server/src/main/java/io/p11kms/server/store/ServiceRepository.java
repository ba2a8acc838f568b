package io.p11kms.server.store;

import static io.p11kms.server.store.SqlValues.fromMicros;
import static io.p11kms.server.store.SqlValues.toMicros;

import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/** Registered services, in the {@code services} table; names unique by constraint. */
final class ServiceRepository {
  private final Transactions tx;

  ServiceRepository(Transactions tx) {
    this.tx = tx;
  }

  /**
   * @throws KeyAlreadyExistsException when the name is taken
   */
  void registerService(ServiceRecord s) {
    KeyRecord.requireNonNull(s, "service");
    tx.inWriteTransaction(
        "cannot store the service",
        c -> {
          try (PreparedStatement p =
              c.prepareStatement(
                  "INSERT INTO services (name, account, principals, created_at)"
                      + " VALUES (?, ?, ?, ?)")) {
            p.setString(1, s.name());
            p.setString(2, s.account());
            p.setString(3, String.join(",", s.principals()));
            p.setLong(4, toMicros(s.createdAt()));
            p.executeUpdate();
          }
          return null;
        });
  }

  List<ServiceRecord> listServices() {
    return tx.read(
        "cannot list services",
        c -> {
          try (PreparedStatement p =
                  c.prepareStatement(
                      "SELECT name, account, principals, created_at FROM services ORDER BY name");
              ResultSet rs = p.executeQuery()) {
            List<ServiceRecord> out = new ArrayList<>();
            while (rs.next()) {
              out.add(
                  new ServiceRecord(
                      rs.getString("name"),
                      rs.getString("account"),
                      Arrays.asList(rs.getString("principals").split(",")),
                      fromMicros(rs.getLong("created_at"))));
            }
            return out;
          }
        });
  }
}
