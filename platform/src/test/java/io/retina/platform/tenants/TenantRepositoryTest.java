package io.retina.platform.tenants;

import static org.junit.jupiter.api.Assertions.*;

import io.retina.platform.store.Database;
import io.retina.platform.store.TestDatabases;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class TenantRepositoryTest {
  static Database db;
  static TenantRepository tenants;

  @BeforeAll
  static void open() {
    db = TestDatabases.fresh();
    tenants = new TenantRepository(db.tx());
  }

  @AfterAll
  static void close() {
    db.close();
  }

  @Test
  void issuedKeyAuthenticatesItsTenant() {
    Tenant t = tenants.create("acme");
    var issued = tenants.issueKey(t.id(), "ci");
    assertTrue(issued.secret().startsWith("rtn_live_"));
    assertEquals(t.id(), tenants.authenticate(issued.secret()).orElseThrow().id());
  }

  @Test
  void keyIsStoredOnlyAsHash() {
    Tenant t = tenants.create("hashed");
    var issued = tenants.issueKey(t.id(), "ci");
    String secretPart = issued.secret().substring(9, 41);
    int rows =
        db.tx()
            .system()
            .call(
                c -> {
                  int n = 0;
                  try (var st = c.createStatement();
                      var rs = st.executeQuery("select * from api_keys")) {
                    var meta = rs.getMetaData();
                    while (rs.next()) {
                      n++;
                      for (int i = 1; i <= meta.getColumnCount(); i++) {
                        Object v = rs.getObject(i);
                        assertFalse(v != null && v.toString().contains(secretPart));
                        if (v instanceof byte[] b) {
                          assertFalse(
                              new String(b, java.nio.charset.StandardCharsets.ISO_8859_1)
                                  .contains(secretPart));
                        }
                      }
                    }
                  }
                  return n;
                });
    assertTrue(rows >= 1, "the check read the stored keys");
  }

  @Test
  void refusesKeyWithBadChecksumOrRevokedOrSuspended() {
    Tenant t = tenants.create("refused");
    var issued = tenants.issueKey(t.id(), "ci");
    String s = issued.secret();
    String tampered = s.substring(0, 20) + (s.charAt(20) == 'a' ? 'b' : 'a') + s.substring(21);
    assertTrue(ApiKeyFormat.prefixOf(tampered).isEmpty());
    assertTrue(tenants.authenticate(tampered).isEmpty());
    assertTrue(tenants.authenticate("rtn_live_nonsense").isEmpty());

    tenants.setStatus(t.id(), Tenant.Status.SUSPENDED);
    assertTrue(tenants.authenticate(s).isEmpty());
    tenants.setStatus(t.id(), Tenant.Status.ACTIVE);
    assertTrue(tenants.authenticate(s).isPresent());
    tenants.revokeKey(t.id(), issued.key().id());
    assertTrue(tenants.authenticate(s).isEmpty());
  }

  @Test
  void wellFormedKeyUnknownToStoreIsRefused() {
    assertTrue(tenants.authenticate(ApiKeyFormat.generate()).isEmpty());
  }

  @Test
  void aKeyIsKnownWithoutTheStoreOnlyWhileItsLastLookUpHolds() {
    Tenant t = tenants.create("recent");
    var issued = tenants.issueKey(t.id(), "ci");
    String s = issued.secret();
    assertTrue(tenants.authenticatedRecently(s).isEmpty(), "never looked up on this node");
    tenants.authenticate(s);
    assertEquals(t.id(), tenants.authenticatedRecently(s).orElseThrow().id());
    assertTrue(tenants.authenticatedRecently("rtn_live_nonsense").isEmpty());

    tenants.setStatus(t.id(), Tenant.Status.SUSPENDED);
    assertTrue(tenants.authenticatedRecently(s).isEmpty(), "a suspension through this node");
    tenants.setStatus(t.id(), Tenant.Status.ACTIVE);
    tenants.authenticate(s);
    tenants.revokeKey(t.id(), issued.key().id());
    assertTrue(tenants.authenticatedRecently(s).isEmpty(), "a revocation through this node");
  }
}
