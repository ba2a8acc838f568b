package io.p11kms.server.store;

import static io.p11kms.server.store.SqlValues.fromMicros;
import static io.p11kms.server.store.SqlValues.toMicros;

import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/** Accounts, in the {@code accounts} table; ids and names unique by constraint. */
final class AccountRepository {
  private static final String COLUMNS = "account_id, name, key_accounts, created_at";

  private final Transactions tx;

  AccountRepository(Transactions tx) {
    this.tx = tx;
  }

  /**
   * @throws KeyAlreadyExistsException when the id or the name is taken
   */
  void createAccount(AccountRecord a) {
    KeyRecord.requireNonNull(a, "account");
    tx.inWriteTransaction(
        "cannot store the account",
        c -> {
          try (PreparedStatement p =
              c.prepareStatement("INSERT INTO accounts (" + COLUMNS + ") VALUES (?, ?, ?, ?)")) {
            p.setString(1, a.accountId());
            p.setString(2, a.name());
            p.setString(3, String.join(",", a.keyAccounts()));
            p.setLong(4, toMicros(a.createdAt()));
            p.executeUpdate();
          }
          return null;
        });
  }

  Optional<AccountRecord> findAccount(String accountId) {
    KeyRecord.requireNonNull(accountId, "account id");
    return tx.query(
        "cannot read the account",
        "SELECT " + COLUMNS + " FROM accounts WHERE account_id = ?",
        p -> {
          p.setString(1, accountId);
          try (ResultSet rs = p.executeQuery()) {
            return rs.next() ? Optional.of(account(rs)) : Optional.<AccountRecord>empty();
          }
        });
  }

  List<AccountRecord> listAccounts() {
    return tx.read(
        "cannot list accounts",
        c -> {
          try (PreparedStatement p =
                  c.prepareStatement("SELECT " + COLUMNS + " FROM accounts ORDER BY account_id");
              ResultSet rs = p.executeQuery()) {
            List<AccountRecord> out = new ArrayList<>();
            while (rs.next()) {
              out.add(account(rs));
            }
            return out;
          }
        });
  }

  boolean setKeyAccounts(String accountId, List<String> keyAccounts) {
    KeyRecord.requireNonNull(accountId, "account id");
    return tx.inWriteTransaction(
        "cannot update the account",
        c -> {
          try (PreparedStatement p =
              c.prepareStatement("UPDATE accounts SET key_accounts = ? WHERE account_id = ?")) {
            p.setString(1, String.join(",", keyAccounts));
            p.setString(2, accountId);
            return p.executeUpdate() == 1;
          }
        });
  }

  private static AccountRecord account(ResultSet rs) throws SQLException {
    String keyAccounts = rs.getString("key_accounts");
    return new AccountRecord(
        rs.getString("account_id"),
        rs.getString("name"),
        keyAccounts.isEmpty() ? List.of() : Arrays.asList(keyAccounts.split(",")),
        fromMicros(rs.getLong("created_at")));
  }
}
