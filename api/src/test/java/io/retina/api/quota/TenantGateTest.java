package io.retina.api.quota;

import static org.junit.jupiter.api.Assertions.*;

import io.retina.platform.store.Database;
import io.retina.platform.store.TestDatabases;
import io.retina.platform.tenants.QuotaOverrides;
import io.retina.platform.tenants.QuotaRepository;
import io.retina.platform.tenants.TenantRepository;
import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.apache.pekko.actor.testkit.typed.annotations.JUnit5TestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.JUnit5TestKitBuilder;
import org.apache.pekko.actor.testkit.typed.javadsl.TestKitJUnit5Extension;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * What a caller of a tenant's gate sees: admissions within the tenant's rate and burst, refusals
 * past them with the time to retry, and quota changes once the gate is told. The quotas are read
 * from a real PostgreSQL, as in production.
 */
@ExtendWith(TestKitJUnit5Extension.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS) // one actor system for the class, shut at the end
class TenantGateTest {
  @JUnit5TestKit ActorTestKit testKit = new JUnit5TestKitBuilder().build();

  Database db;
  TenantRepository tenants;
  QuotaRepository quotas;
  ExecutorService store;

  @BeforeAll
  void open() {
    db = TestDatabases.fresh();
    tenants = new TenantRepository(db.tx());
    quotas = new QuotaRepository(db.tx());
    store = Executors.newFixedThreadPool(2);
  }

  @AfterAll
  void close() {
    store.shutdown();
    db.close();
  }

  /**
   * A token every ten seconds: slow enough that no refill lands between a test's back-to-back asks,
   * however loaded the machine.
   */
  static final double SLOW = 0.1;

  /** A gate for a new tenant whose rate and burst are these. */
  ActorRef<TenantGate.Command> gate(double ratePerSecond, int burst) {
    UUID tenant = tenants.create("gate-" + UUID.randomUUID()).id();
    quotas.setOverrides(tenant, new QuotaOverrides(ratePerSecond, burst, null, null, null));
    return testKit.spawn(TenantGate.create(tenant, quotas, store));
  }

  TenantGate.Decision admit(ActorRef<TenantGate.Command> gate) {
    TestProbe<TenantGate.Decision> probe = testKit.createTestProbe();
    gate.tell(new TenantGate.Admit(probe.getRef()));
    return probe.receiveMessage();
  }

  TenantGate.Decision peek(ActorRef<TenantGate.Command> gate) {
    TestProbe<TenantGate.Decision> probe = testKit.createTestProbe();
    gate.tell(new TenantGate.Peek(probe.getRef()));
    return probe.receiveMessage();
  }

  @Test
  void admitsAFullBurstAtOnceCountingDownWhatRemains() {
    var gate = gate(SLOW, 3);

    for (int remaining = 2; remaining >= 0; remaining--) {
      TenantGate.Decision d = admit(gate);
      assertTrue(d.admitted());
      assertEquals(remaining, d.remaining());
      assertEquals(3, d.burst());
    }
  }

  @Test
  void refusesPastTheBurstWithTheTimeUntilTheNextToken() {
    var gate = gate(SLOW, 2);
    admit(gate);
    admit(gate);

    TenantGate.Decision refused = admit(gate);

    assertFalse(refused.admitted());
    assertTrue(refused.known());
    assertEquals(0, refused.remaining());
    assertTrue(
        refused.retryAfterMillis() > 0 && refused.retryAfterMillis() <= 10_000,
        "one token in ten seconds: " + refused.retryAfterMillis() + " ms");
  }

  @Test
  void admitsAgainOnceTheRateHasRefilledAToken() throws InterruptedException {
    var gate = gate(20, 1);
    assertTrue(admit(gate).admitted());
    assertFalse(admit(gate).admitted());

    Thread.sleep(100); // two tokens' worth at 20 a second; the bucket holds one

    assertTrue(admit(gate).admitted());
  }

  @Test
  void aPeekTellsTheBucketWithoutTakingAToken() {
    var gate = gate(SLOW, 2);

    assertEquals(2, peek(gate).remaining());
    assertEquals(2, peek(gate).remaining());
    assertTrue(admit(gate).admitted());
    assertTrue(admit(gate).admitted());
  }

  @Test
  void aTenantWithoutAQuotaIsRefusedAsUnknown() {
    var gate = testKit.spawn(TenantGate.create(UUID.randomUUID(), quotas, store));

    TenantGate.Decision d = admit(gate);

    assertFalse(d.admitted());
    assertFalse(d.known(), "refused for want of a quota, not for the rate");
  }

  @Test
  void aQuotaChangeLandsOnceTheGateIsToldOfIt() {
    UUID tenant = tenants.create("gate-changed").id();
    quotas.setOverrides(tenant, new QuotaOverrides(SLOW, 5, null, null, null));
    var gate = testKit.spawn(TenantGate.create(tenant, quotas, store));
    assertEquals(5, peek(gate).remaining());

    quotas.setOverrides(tenant, new QuotaOverrides(SLOW, 2, null, null, null));
    gate.tell(new TenantGate.QuotaChanged());

    TestProbe<TenantGate.Decision> probe = testKit.createTestProbe();
    probe.awaitAssert(
        Duration.ofSeconds(5),
        () -> {
          TenantGate.Decision d = peek(gate);
          assertEquals(2, d.burst());
          assertEquals(2, d.remaining(), "the tokens above the new burst are gone");
          return null;
        });
  }
}
