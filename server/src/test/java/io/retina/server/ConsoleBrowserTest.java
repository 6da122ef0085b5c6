package io.retina.server;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigDecimal;
import java.net.http.HttpRequest;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.text.DecimalFormat;
import java.text.DecimalFormatSymbols;
import java.time.Duration;
import java.time.YearMonth;
import java.time.ZoneOffset;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import java.util.logging.Level;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.StaleElementReferenceException;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.logging.LogEntry;
import org.openqa.selenium.logging.LogType;
import org.openqa.selenium.logging.LoggingPreferences;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.FluentWait;
import org.openqa.selenium.support.ui.Select;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * The admin console in a real browser: Debian's Chromium, driven through Selenium, against a real
 * node. Each test signs in afresh and asserts what an admin sees on the page, and checks through
 * the API that what the page did really happened.
 */
class ConsoleBrowserTest {
  static final Path CHROMIUM = Path.of(System.getProperty("retina.chromium", "/usr/bin/chromium"));
  static final Path CHROMEDRIVER =
      Path.of(System.getProperty("retina.chromedriver", "/usr/bin/chromedriver"));
  // a page's answer comes in well under a second; a cold node or a loaded CI machine is slower
  static final Duration WAIT = Duration.ofSeconds(30);

  static TestNode node;
  static Http http;
  static ChromeDriver driver;
  static WebDriverWait wait;
  static Path profile;
  static Path downloads;
  static Path modelCache;

  @BeforeAll
  static void start() throws IOException {
    assertTrue(
        Files.isExecutable(CHROMIUM) && Files.isExecutable(CHROMEDRIVER),
        "ConsoleBrowserTest needs Chromium at "
            + CHROMIUM
            + " and its driver at "
            + CHROMEDRIVER
            + ": install them with `apt-get install -y chromium chromium-driver`"
            + " (or name others with -Dretina.chromium= and -Dretina.chromedriver=).");
    // uploaded versions unpack into a model cache of this class's own, thrown away at the end
    modelCache = ModelRegistryTest.privateModelCache();
    node =
        TestNode.start(
            Map.of(
                "retina.workers.model-cache", modelCache.toString(),
                // the tests upload and load more versions than the 1 GB budget holds; the one
                // whose replica a test watches is never the one unloaded to make room
                "retina.workers.residency.pinned", "background-removal@1",
                // a webhook endpoint on a closed local port fails at once and is disabled quickly
                "retina.webhooks.allow-http", true,
                "retina.webhooks.allow-private", true,
                "retina.webhooks.first-retry", "200ms",
                "retina.webhooks.max-backoff", "1s",
                "retina.webhooks.poll-interval", "100ms",
                "retina.webhooks.disable-after", "1s"));
    http = new Http(node.base);
    profile = Files.createTempDirectory("retina-chromium");
    downloads = Files.createTempDirectory("retina-downloads");
    ChromeOptions options = new ChromeOptions();
    options.setBinary(CHROMIUM.toFile());
    options.addArguments(
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-dev-shm-usage",
        "--disable-component-update",
        "--no-first-run",
        "--user-data-dir=" + profile,
        // wide enough for the console's two columns
        "--window-size=1400,1000");
    options.setExperimentalOption(
        "prefs",
        Map.of(
            "download.default_directory",
            downloads.toString(),
            "download.prompt_for_download",
            false));
    LoggingPreferences logs = new LoggingPreferences();
    logs.enable(LogType.BROWSER, Level.ALL);
    options.setCapability(ChromeOptions.LOGGING_PREFS, logs);
    ChromeDriverService service =
        new ChromeDriverService.Builder()
            .usingDriverExecutable(CHROMEDRIVER.toFile())
            .usingAnyFreePort()
            .build();
    driver = new ChromeDriver(service, options);
    wait = new WebDriverWait(driver, WAIT);
    // the console redraws a table whole when it reloads it: look the element up again
    wait.ignoring(StaleElementReferenceException.class);
  }

  @AfterAll
  static void stop() throws Exception {
    try {
      if (driver != null) driver.quit();
    } finally {
      if (node != null) node.close();
      deleteTree(profile);
      deleteTree(downloads);
      deleteTree(modelCache); // its links to the built-in packages are removed, never followed
    }
  }

  /** Every test starts signed out, on the console's first page. */
  @BeforeEach
  void openConsoleSignedOut() {
    driver.get(node.base + "/console/");
    ((JavascriptExecutor) driver).executeScript("sessionStorage.clear()");
    driver.navigate().refresh();
    visible("login-form");
  }

  @AfterEach
  void pageRaisedNoScriptErrors() {
    List<String> errors =
        driver.manage().logs().get(LogType.BROWSER).getAll().stream()
            .filter(e -> e.getLevel().intValue() >= Level.SEVERE.intValue())
            .map(LogEntry::getMessage)
            // the refused calls a test makes on purpose (a wrong token) are logged too
            .filter(m -> !m.contains("Failed to load resource"))
            .toList();
    assertEquals(List.of(), errors, "the console's scripts raised errors");
  }

  @Test
  void refusesAWrongAdminTokenAndSignsInWithTheRightOne() {
    typeInto("token-input", "not-the-admin-token");
    testId("login-button").click();
    waitForText("message", "The admin token was not accepted.");
    assertTrue(testId("login-form").isDisplayed());
    assertFalse(testId("tenants-panel").isDisplayed());

    signIn();
    waitForText("message", "Signed in.");
    assertTrue(testId("logout-button").isDisplayed());
  }

  @Test
  void issuesAKeyWhoseSecretIsShownOnceWorksAndStopsWhenRotatedOrRevoked() {
    signIn();
    createTenant(uniqueName());
    String secret = issueKey("laptop");
    assertEquals(200, http.get("/v1/jobs", secret).status(), "the issued secret authenticates");

    testId("dismiss-secret-button").click();
    wait.until(ExpectedConditions.invisibilityOfElementLocated(testIdLocator("issued-secret")));
    assertFalse(driver.getPageSource().contains(secret), "the secret is shown only once");

    clickKeyButton("laptop", "rotate-key-button");
    wait.until(ExpectedConditions.alertIsPresent()).accept();
    waitForText("message", "Rotated the key laptop");
    wait.until(d -> keyRows("laptop").size() == 2);
    String rotated = shownSecret();
    assertNotEquals(secret, rotated);
    assertEquals(401, http.get("/v1/jobs", secret).status(), "the rotated-away secret is refused");
    assertEquals(200, http.get("/v1/jobs", rotated).status(), "the new secret authenticates");

    clickKeyButton("laptop", "revoke-key-button");
    wait.until(ExpectedConditions.alertIsPresent()).accept();
    waitForText("message", "Revoked the key laptop.");
    wait.until(d -> keyRows("laptop").stream().allMatch(r -> r.getText().contains("revoked")));
    assertEquals(401, http.get("/v1/jobs", rotated).status(), "a revoked key is refused");
  }

  @Test
  void changesATenantsPlanAndQuotaOverridesAndDeletesIt() {
    signIn();
    String name = uniqueName();
    String id = createTenant(name);
    waitForText("quota-effective-plan", "standard");

    new Select(testId("tenant-plan-select")).selectByVisibleText("enterprise");
    testId("save-tenant-button").click();
    waitForText("message", "Saved " + name + ": plan enterprise, active.");
    waitForText("quota-effective-plan", "enterprise");
    wait.until(d -> tenantRow(id).getText().contains("enterprise"));

    typeInto("quota-burst-input", "77");
    typeInto("quota-monthlySpendCapMicros-input", "12.5");
    testId("save-quota-button").click();
    waitForText("message", "Saved the quota overrides of " + name + ".");
    waitForText("quota-effective-burst", "77 override");
    waitForText("quota-effective-monthlySpendCapMicros", "12.50 override");
    JsonNode quota = http.get("/admin/tenants/" + id + "/quota", TestNode.ADMIN_TOKEN).json();
    assertEquals(77, quota.at("/overrides/burst").asInt());
    assertEquals(12_500_000L, quota.at("/overrides/monthlySpendCapMicros").asLong());
    assertEquals("enterprise", quota.at("/effective/plan").asText());

    testId("delete-tenant-button").click();
    wait.until(ExpectedConditions.alertIsPresent()).accept();
    waitForText("message", "Deleted the tenant " + name + ".");
    visible("tenant-deleted-notice");
    wait.until(d -> tenantRow(id).getText().contains("deleted"));
    assertEquals(
        "deleted",
        http.get("/admin/tenants/" + id, TestNode.ADMIN_TOKEN).json().get("status").asText());
  }

  @Test
  void showsTheMonthsInvoiceAsUnitsAndTheTenantsChangesInTheAudit() {
    signIn();
    String name = uniqueName();
    String id = createTenant(name);
    String secret = issueKey("batch");
    Http.Reply job =
        http.submit(
            "model=super-resolution", secret, "image/png", Photos.flowerPng(), "Prefer", "wait=60");
    assertEquals("succeeded", job.json().get("status").asText(), job.toString());
    new Select(testId("tenant-plan-select")).selectByVisibleText("free");
    testId("save-tenant-button").click();
    waitForText("message", "plan free");

    String month = YearMonth.now(ZoneOffset.UTC).toString();
    JsonNode invoices = http.get("/admin/invoices?month=" + month, TestNode.ADMIN_TOKEN).json();
    long totalMicros = 0;
    for (JsonNode invoice : invoices.get("invoices")) {
      if (invoice.get("tenantId").asText().equals(id)) {
        totalMicros = invoice.get("totalMicros").asLong();
      }
    }
    assertTrue(totalMicros > 0, "the job was billed: " + invoices);

    testId("nav-invoices").click();
    By ours = By.cssSelector("[data-testid='invoice'][data-tenant-id='" + id + "']");
    WebElement invoice = wait.until(ExpectedConditions.visibilityOfElementLocated(ours));
    assertTrue(invoice.getText().contains(name), invoice.getText());
    assertTrue(invoice.getText().contains("super-resolution@1"), invoice.getText());
    assertEquals(units(totalMicros), invoice.findElement(testIdLocator("invoice-total")).getText());
    assertTrue(testId("currency-note").getText().contains("units of the billing currency"));

    testId("download-invoices-csv-button").click();
    waitForText("message", "Downloaded retina-invoices-" + month + ".csv.");
    Path csv = downloads.resolve("retina-invoices-" + month + ".csv");
    String saved =
        new FluentWait<>(csv)
            .withTimeout(WAIT)
            .pollingEvery(Duration.ofMillis(100))
            .until(p -> Files.exists(p) ? read(p) : null);
    assertTrue(saved.startsWith("tenant_id,tenant_name,month,model,jobs,megapixels,amount_micros"));
    assertTrue(saved.contains(id + "," + name + "," + month + ",super-resolution@1,1,"), saved);

    testId("nav-audit").click();
    waitForAuditRow("tenant.create", name, "plan: standard");
    waitForAuditRow("key.issue", name, "name: batch");
    waitForAuditRow("tenant.update", name, "plan: free");
  }

  @Test
  void promotesAStagedModelVersionRollsItBackAndAuditsBoth() {
    signIn();
    openModels();
    waitForModelText("super-resolution", "Upscales a photo");
    waitForModelText("background-removal", "Jobs naming background-removal run on @1.");
    waitForStatus("background-removal@2", "staged");
    assertTrue(
        versionRow("background-removal@2").getText().contains("built in"),
        versionRow("background-removal@2").getText());
    try {
      clickIn(versionRowLocator("background-removal@2"), "promote-version-button");
      wait.until(ExpectedConditions.alertIsPresent()).accept();
      waitForText("message", "Promoted background-removal@2");
      waitForStatus("background-removal@2", "active");
      waitForStatus("background-removal@1", "staged");
      waitForModelText("background-removal", "Jobs naming background-removal run on @2.");
      assertEquals(2, activeVersion("background-removal"));

      clickIn(modelLocator("background-removal"), "rollback-model-button");
      wait.until(ExpectedConditions.alertIsPresent()).accept();
      waitForText("message", "Rolled background-removal back to @1.");
      waitForStatus("background-removal@1", "active");
      waitForStatus("background-removal@2", "staged");
      waitForModelText("background-removal", "Jobs naming background-removal run on @1.");
      assertEquals(1, activeVersion("background-removal"));
    } finally {
      // the class's tests share the node: background-removal stays on @1 whatever happened here
      if (activeVersion("background-removal") != 1) {
        adminPost("/admin/models/background-removal/versions/1/promote");
      }
    }

    testId("nav-audit").click();
    waitForAuditRow("model.promote", "from: background-removal@1", "to: background-removal@2");
    waitForAuditRow("model.rollback", "from: background-removal@2", "to: background-removal@1");
  }

  @Test
  void uploadsAVersionShowsWhyItFailsToLoadAndRetiresIt() throws IOException {
    signIn();
    openModels();
    waitForModelText("background-removal", "Jobs naming background-removal run on @1.");
    Path zip = Files.createTempFile("broken-saved-model", ".zip");
    try {
      Files.write(zip, ModelRegistryTest.unrunnableSavedModelZip());
      new Select(testId("upload-model-select")).selectByValue("background-removal");
      testId("upload-file-input").sendKeys(zip.toString());
      new Select(testId("upload-format-select")).selectByValue("saved-model");
      typeInto("upload-entry-input", "broken");
      testId("upload-version-button").click();
      waitForText("message", "Uploaded background-removal@");
    } finally {
      Files.delete(zip);
    }
    String message = testId("message").getText();
    String ref = message.substring("Uploaded ".length(), message.indexOf(','));
    waitForStatus(ref, "staged");
    waitForRowText(ref, "uploaded");
    // a worker tries the upload at once; whether it has by now is a race, so no load is asserted
    // yet

    Http.TenantKey tenant = http.newTenant(uniqueName());
    String key = tenant.key();
    http.canaries(
        "background-removal", Integer.parseInt(ref.substring(ref.indexOf('@') + 1)), tenant.id());
    byte[] photo = JobContractTest.shrink(Photos.flowerPng(), 48);
    JsonNode job = http.submit("model=" + ref, key, "image/png", photo, "Prefer", "wait=60").json();
    assertEquals("failed", job.get("status").asText(), job.toString());
    assertEquals("model-unavailable", job.at("/error/type").asText(), job.toString());

    testId("refresh-models-button").click();
    // the reason is on the page, not only in a tooltip: it is how an admin learns why
    waitForRowText(ref, "failed on node ");
    String loads = versionRow(ref).findElement(testIdLocator("version-loads")).getText();
    assertTrue(loads.contains("no CPU kernel"), "says why: " + loads);

    clickIn(versionRowLocator(ref), "retire-version-button");
    wait.until(ExpectedConditions.alertIsPresent()).accept();
    waitForText("message", "Retired " + ref + ".");
    waitForStatus(ref, "retired");
    assertTrue(versionRow(ref).findElements(testIdLocator("promote-version-button")).isEmpty());
    assertEquals("retired", versionStatus("background-removal", ref));
  }

  @Test
  void storesAVersionsReplicaSettingsAndSaysWhyAMinimumOverTheMaximumIsRefused() {
    String scaling = "/admin/models/background-removal/versions/1/scaling";
    signIn();
    openModels();
    try {
      clickIn(versionRowLocator("background-removal@1"), "replicas-button");
      WebElement min = visible("replicas-minReplicas-input");
      // a version without settings of its own shows the node's defaults (workers.conf's) in the
      // empty fields
      assertEquals("", min.getDomProperty("value"));
      assertEquals("1", min.getDomAttribute("placeholder"));
      assertEquals("16", testId("replicas-maxReplicas-input").getDomAttribute("placeholder"));
      assertEquals("30", testId("replicas-maxWaitSeconds-input").getDomAttribute("placeholder"));

      typeInto("replicas-minReplicas-input", "1");
      typeInto("replicas-maxReplicas-input", "4");
      typeInto("replicas-targetWaitSeconds-input", "3.5");
      typeInto("replicas-maxWaitSeconds-input", "45");
      new Select(testId("replicas-device-select")).selectByValue("any");
      testId("save-replicas-button").click();
      waitForText("message", "Saved the replica settings of background-removal@1.");
      waitForText("replica-settings-applied", "1 to 4 replicas on any worker");
      waitForText("replica-settings-applied", "refused past 45 s");
      JsonNode own = http.get(scaling, TestNode.ADMIN_TOKEN).json().get("own");
      assertEquals(1, own.get("minReplicas").asInt(), own.toString());
      assertEquals(4, own.get("maxReplicas").asInt(), own.toString());
      assertEquals(3.5, own.get("targetWaitSeconds").asDouble(), own.toString());
      assertEquals(45.0, own.get("maxWaitSeconds").asDouble(), own.toString());
      assertEquals("any", own.get("device").asText(), own.toString());

      typeInto("replicas-minReplicas-input", "5");
      typeInto("replicas-maxReplicas-input", "2");
      testId("save-replicas-button").click();
      Http.Reply refused = adminPut(scaling, "{\"minReplicas\":5,\"maxReplicas\":2}");
      assertEquals(422, refused.status(), refused.toString());
      String detail = refused.json().get("detail").asText();
      waitForText("message", detail);
      assertEquals(detail, testId("replica-settings-error").getText());
      assertEquals("true", testId("replicas-minReplicas-input").getDomAttribute("aria-invalid"));
      assertEquals(
          4,
          http.get(scaling, TestNode.ADMIN_TOKEN).json().at("/own/maxReplicas").asInt(),
          "a refused change leaves the stored settings as they were");
    } finally {
      // the class's tests share the node: background-removal@1 takes the node's defaults again
      Http.Reply cleared = adminPut(scaling, "{}");
      assertEquals(200, cleared.status(), cleared.toString());
    }
  }

  @Test
  void namesAnActiveVersionThatFailedToLoadOnEveryViewUntilItIsRolledBack() throws Exception {
    Http.Reply uploaded =
        http.send(
            http.to("/admin/models/background-removal/versions?format=saved-model&entry=broken")
                .header("Authorization", "Bearer " + TestNode.ADMIN_TOKEN)
                .header("Content-Type", "application/zip")
                .POST(
                    java.net.http.HttpRequest.BodyPublishers.ofByteArray(
                        ModelRegistryTest.unrunnableSavedModelZip())));
    assertEquals(201, uploaded.status(), uploaded.toString());
    String ref = uploaded.json().get("ref").asText();
    int number = uploaded.json().get("version").asInt();
    String promote = "/admin/models/background-removal/versions/" + number + "/promote";
    adminPost(promote);
    try {
      signIn();
      driver.navigate().refresh(); // the health check runs as the page loads
      wait.until(
          ExpectedConditions.textToBePresentInElementLocated(testIdLocator("degraded-model"), ref));
      String shown = testId("degraded-models").getText();
      assertTrue(shown.contains("no CPU kernel"), "says why: " + shown);
      waitForText("health-status", "model load failure");
    } finally {
      adminPost("/admin/models/background-removal/versions/1/promote");
    }
    driver.navigate().refresh();
    wait.until(ExpectedConditions.invisibilityOfElementLocated(testIdLocator("degraded-models")));
  }

  @Test
  void showsTheWorkerNodeItsDeviceAndTheModelItHoldsInMemory() {
    String key = http.newTenantKey(uniqueName());
    byte[] photo = JobContractTest.shrink(Photos.flowerPng(), 48);
    JsonNode job =
        http.submit("model=super-resolution", key, "image/png", photo, "Prefer", "wait=60").json();
    assertEquals("succeeded", job.get("status").asText(), job.toString());
    // the node writes what it holds just after the load: wait for the store to have it
    wait.until(
        d ->
            http.get("/admin/workers", TestNode.ADMIN_TOKEN)
                .json()
                .at("/nodes/0/resident")
                .toString()
                .contains("\"super-resolution@1\""));

    signIn();
    testId("nav-workers").click();
    visible("workers-panel");
    By row =
        By.cssSelector("[data-testid='worker-row'][data-address='" + node.clusterAddress() + "']");
    wait.until(ExpectedConditions.attributeToBe(row, "data-status", "up"));
    WebElement self = driver.findElement(row);
    assertTrue(self.getText().contains("leader"), self.getText());
    assertTrue(self.getText().contains("api, worker"), self.getText());
    assertEquals("CPU", self.findElement(testIdLocator("worker-device")).getText());
    WebElement resident =
        self.findElement(
            By.cssSelector("[data-testid='resident-version'][data-ref='super-resolution@1']"));
    assertTrue(resident.getText().matches("super-resolution@1 [0-9.]+ [kMG]B"), resident.getText());

    testId("refresh-workers-button").click();
    wait.until(ExpectedConditions.textToBePresentInElementLocated(row, "super-resolution@1"));
  }

  @Test
  void showsAVersionsReplicasAndTheDecisionThatPlacedItsFirstOne() {
    String ref = "background-removal@1";
    String key = http.newTenantKey(uniqueName());
    byte[] photo = JobContractTest.shrink(Photos.flowerPng(), 48);
    JsonNode job =
        http.submit("model=background-removal", key, "image/png", photo, "Prefer", "wait=60")
            .json();
    assertEquals("succeeded", job.get("status").asText(), job.toString());
    // the runner reports its load every second, and records its decisions as it takes them
    JsonNode placed =
        wait.until(
            d -> {
              JsonNode workers = http.get("/admin/workers", TestNode.ADMIN_TOKEN).json();
              boolean reported = workers.get("versions").findValuesAsText("version").contains(ref);
              JsonNode first = null; // the decisions come newest first: the last match
              for (JsonNode e : workers.get("scalingEvents")) {
                if (e.get("version").asText().equals(ref)
                    && e.get("direction").asText().equals("up")
                    && e.get("from").asInt() == 0) {
                  first = e;
                }
              }
              return reported ? first : null;
            });
    assertTrue(
        List.of("jobs are waiting and the version has no replica", "below the minimum of 1")
            .contains(placed.get("reason").asText()),
        placed.toString());

    signIn();
    testId("nav-workers").click();
    visible("workers-panel");
    By load = By.cssSelector("[data-testid='version-load-row'][data-ref='" + ref + "']");
    // a load is shown for 3 s after its report: an answer that fell between two is refreshed
    // (a report taken while the page was opening may predate the replica: refresh until it is
    // the job's replica the page shows; a version left with none fails here)
    WebElement row =
        wait.until(
            d -> {
              List<WebElement> found = d.findElements(load);
              boolean shown =
                  !found.isEmpty()
                      && found
                          .get(0)
                          .findElement(testIdLocator("version-load-replicas"))
                          .getText()
                          .equals("1");
              if (!shown) testId("refresh-workers-button").click();
              return shown ? found.get(0) : null;
            });
    String waitShown = row.findElement(testIdLocator("version-load-wait")).getText();
    assertTrue(waitShown.matches("[0-9.,]+ s of [0-9.,]+ s.*"), waitShown);

    By decisions =
        By.cssSelector(
            "[data-testid='scaling-event-row'][data-ref='" + ref + "'][data-direction='up']");
    WebElement decision =
        wait.until(
            d ->
                d.findElements(decisions).stream()
                    .filter(
                        e ->
                            e.findElement(testIdLocator("scaling-event-reason"))
                                .getText()
                                .equals(placed.get("reason").asText()))
                    .findFirst()
                    .orElse(null));
    assertEquals("up 0 → 1", decision.findElement(testIdLocator("scaling-event-change")).getText());
    assertTrue(decision.getText().contains(node.clusterAddress()), decision.getText());
  }

  @Test
  void findsATenantsFailedJobWithWhyAndCancelsAQueuedOne() throws Exception {
    String name = uniqueName();
    String key = http.newTenantKey(name);
    Http.Reply undecodable =
        http.submit("model=super-resolution", key, "image/png", Photos.pngHeaderOnly(64, 64));
    String failed = undecodable.json().get("id").asText();
    assertEquals("failed", JobContractTest.awaitFinal(http, failed, key).get("status").asText());
    // ten slow jobs on a node whose workers run two at a time: the last waits long in the queue
    byte[] photo = JobContractTest.shrink(Photos.peopleJpeg(1), 480);
    List<String> slow = new java.util.ArrayList<>();
    for (int i = 0; i < 10; i++) {
      Http.Reply r = http.submit("model=super-resolution&scale=4", key, "image/png", photo);
      assertEquals(202, r.status(), r.toString());
      slow.add(r.json().get("id").asText());
    }
    String queued = slow.get(slow.size() - 1);
    try {
      signIn();
      testId("nav-jobs").click();
      visible("jobs-panel");
      chooseJobFilter("jobs-tenant-select", name);
      chooseJobFilter("jobs-status-select", "failed");
      testId("filter-jobs-button").click();
      wait.until(
          ExpectedConditions.textToBePresentInElementLocated(
              jobRowLocator(failed), "invalid-input"));
      assertTrue(
          driver.findElements(testIdLocator("job-row")).stream()
              .allMatch(r -> "failed".equals(r.getDomAttribute("data-status"))),
          "only failed jobs are listed");
      WebElement row = driver.findElement(jobRowLocator(failed));
      assertTrue(row.getText().contains(name), row.getText());
      String error = row.findElement(testIdLocator("job-error")).getText();
      assertEquals(
          JobContractTest.awaitFinal(http, failed, key).at("/error/detail").asText(),
          error.substring(error.indexOf(' ') + 1),
          "the error's detail is on the page, not only in a tooltip");
      assertTrue(row.findElements(testIdLocator("cancel-job-button")).isEmpty());

      chooseJobFilter("jobs-status-select", "any");
      testId("filter-jobs-button").click();
      clickIn(jobRowLocator(queued), "cancel-job-button");
      wait.until(ExpectedConditions.alertIsPresent()).accept();
      waitForText("message", "Canceled the super-resolution@1 job of " + name + ".");
      wait.until(
          ExpectedConditions.attributeToBe(jobRowLocator(queued), "data-status", "canceled"));
      wait.until(
          ExpectedConditions.textToBePresentInElementLocated(
              jobRowLocator(queued), "canceled by an operator"));
      assertEquals(
          "canceled", JobContractTest.awaitFinal(http, queued, key).get("status").asText());
    } finally {
      // the class's tests share the node: leave its workers nothing slow to run
      for (String id : slow) {
        http.send(
            http.to("/admin/jobs/" + id + "/cancel")
                .header("Authorization", "Bearer " + TestNode.ADMIN_TOKEN)
                .POST(HttpRequest.BodyPublishers.noBody()));
      }
    }
  }

  /**
   * The first view after signing in: the platform at a glance, its figures and its charts' data the
   * same as the admin API's overview, for a load of succeeded and failed jobs.
   */
  @Test
  void opensOnAnOverviewWhoseFiguresAndChartsAreTheApis() throws Exception {
    String key = http.newTenantKey(uniqueName());
    byte[] small = JobContractTest.shrink(Photos.flowerPng(), 48);
    for (int i = 0; i < 4; i++) {
      Http.Reply r =
          http.submit(
              "model=resize&width=16&height=16", key, "image/png", small, "Prefer", "wait=60");
      assertEquals(200, r.status(), r.toString());
    }
    for (int i = 0; i < 2; i++) {
      Http.Reply r =
          http.submit("model=super-resolution", key, "image/png", Photos.pngHeaderOnly(64, 64));
      JobContractTest.awaitFinal(http, r.json().get("id").asText(), key);
    }

    typeInto("token-input", TestNode.ADMIN_TOKEN);
    testId("login-button").click();
    visible("overview-panel");
    // the view follows the platform: what it shows catches up with the API within a refresh
    wait.until(d -> overviewOnPage().equals(overviewOfApi()));
    Map<String, Object> shown = overviewOnPage();
    assertTrue((Long) shown.get("succeeded") >= 4, shown.toString());
    assertTrue(((Map<?, ?>) shown.get("failures")).containsKey("invalid-input"), shown.toString());
    assertTrue(((Map<?, ?>) shown.get("latencyJobs")).containsKey("resize@1"), shown.toString());
  }

  /** The overview's figures as the page shows them, and as its charts hold them. */
  private static Map<String, Object> overviewOnPage() {
    Map<String, Object> m = new java.util.TreeMap<>();
    for (String status : List.of("succeeded", "failed")) {
      m.put(status, Long.parseLong(testId("overview-total-" + status).getText().replace(",", "")));
    }
    Map<String, Long> failures = new java.util.TreeMap<>();
    for (WebElement row : driver.findElements(testIdLocator("overview-failure-row"))) {
      failures.put(
          row.getDomAttribute("data-type"),
          Long.parseLong(row.findElements(By.tagName("td")).get(0).getText().replace(",", "")));
    }
    m.put("failures", failures);
    Map<String, Long> latencyJobs = new java.util.TreeMap<>();
    for (WebElement row : driver.findElements(testIdLocator("overview-latency-row"))) {
      latencyJobs.put(
          row.getDomAttribute("data-model"),
          Long.parseLong(row.findElements(By.tagName("td")).get(0).getText().replace(",", "")));
    }
    m.put("latencyJobs", latencyJobs);
    // the stacked chart's datasets, summed per status: the same jobs the tiles count
    Object sums =
        ((JavascriptExecutor) driver)
            .executeScript(
                "const c = Chart.getChart(document.getElementById('overview-jobs-chart'));"
                    + " if (!c) return null; const out = {};"
                    + " for (const d of c.data.datasets)"
                    + "   out[d.label] = d.data.reduce((a, b) => a + b, 0);"
                    + " return [out.succeeded, out.failed];");
    m.put("chart", sums == null ? null : sums.toString());
    m.put("workers", driver.findElements(testIdLocator("overview-worker-row")).size());
    return m;
  }

  /** The same figures from {@code GET /admin/overview}. */
  private static Map<String, Object> overviewOfApi() {
    JsonNode o = http.get("/admin/overview?minutes=60", TestNode.ADMIN_TOKEN).json();
    Map<String, Object> m = new java.util.TreeMap<>();
    long succeeded = 0;
    long failed = 0;
    for (JsonNode minute : o.get("jobsPerMinute")) {
      succeeded += minute.get("succeeded").asLong();
      failed += minute.get("failed").asLong();
    }
    m.put("succeeded", succeeded);
    m.put("failed", failed);
    Map<String, Long> failures = new java.util.TreeMap<>();
    o.get("failuresByType")
        .forEach(f -> failures.put(f.get("type").asText(), f.get("jobs").asLong()));
    m.put("failures", failures);
    Map<String, Long> latencyJobs = new java.util.TreeMap<>();
    o.get("latencyByModel")
        .forEach(l -> latencyJobs.put(l.get("model").asText(), l.get("jobs").asLong()));
    m.put("latencyJobs", latencyJobs);
    m.put("chart", List.of(succeeded, failed).toString());
    m.put("workers", o.get("workers").size());
    return m;
  }

  /**
   * A tenant's training as the admin follows it: listed with its tenant, its epochs drawn as a
   * chart with one point per committed epoch, and its validation accuracy and confusion matrix as
   * the API gives them.
   */
  @Test
  void showsATenantsTrainingWithAChartOfItsEpochs() throws Exception {
    String name = uniqueName();
    String key = http.newTenantKey(name);
    Http.Reply started =
        TrainingApiTest.startTraining(
            http, key, "name=console-shapes&epochs=4&patience=4", ShapeSets.zip(6, 11));
    assertEquals(202, started.status(), started.toString());
    String id = started.json().get("id").asText();
    JsonNode done = TrainingApiTest.awaitTraining(http, id, key, Duration.ofMinutes(3));
    assertEquals("succeeded", done.get("status").asText(), done.toString());
    String accuracy =
        String.format(
            java.util.Locale.ROOT,
            "%.1f %%",
            done.at("/progress/validationAccuracy").asDouble() * 100);

    signIn();
    testId("nav-trainings").click();
    visible("trainings-panel");
    By row = By.cssSelector("[data-testid='training-row'][data-training-id='" + id + "']");
    wait.until(ExpectedConditions.attributeToBe(row, "data-status", "succeeded"));
    WebElement listed = driver.findElement(row);
    assertTrue(listed.getText().contains(name), listed.getText());
    assertEquals(accuracy, listed.findElement(testIdLocator("training-accuracy")).getText());
    clickIn(row, "open-training-button");
    wait.until(
        ExpectedConditions.attributeToBe(
            testIdLocator("training-details"), "data-training-id", id));
    for (String series : List.of("train-loss", "validation-loss", "validation-accuracy")) {
      WebElement line =
          driver.findElement(
              By.cssSelector(
                  "[data-testid='training-chart'] polyline[data-series='" + series + "']"));
      assertEquals(
          String.valueOf(done.get("history").size()),
          line.getDomAttribute("data-points"),
          series + ": one point per epoch the API reports");
    }
    WebElement confusion = testId("training-confusion");
    assertEquals(
        ShapeSets.CLASSES.size() + 1,
        confusion.findElements(By.tagName("tr")).size(),
        "a row per class under the header");
    assertFalse(testId("cancel-training-button").isDisplayed(), "an ended training has no cancel");
  }

  /**
   * What needs an admin's eye without being asked: a tenant's webhook endpoint the platform
   * disabled is named on every view, and each tenant's stored images are counted in the list.
   */
  @Test
  void showsDisabledWebhookEndpointsAndEachTenantsStoredImages() throws Exception {
    String name = uniqueName();
    Http.TenantKey tenant = http.newTenant(name);
    String url = "http://127.0.0.1:1/closed";
    Http.Reply endpoint =
        http.postJson(
            "/v1/webhooks/endpoints",
            tenant.key(),
            "{\"url\":\"" + url + "\",\"events\":[\"completed\"]}");
    assertEquals(201, endpoint.status(), endpoint.toString());
    String endpointId = endpoint.json().get("id").asText();
    byte[] png = Photos.png(new java.awt.image.BufferedImage(64, 64, 1));
    Http.Reply job =
        http.submit(
            "model=resize&width=48&height=48", tenant.key(), "image/png", png, "Prefer", "wait=30");
    assertEquals(200, job.status(), job.toString());
    long deadline = System.nanoTime() + WAIT.toNanos();
    while (http.get("/v1/webhooks/endpoints/" + endpointId, tenant.key())
        .json()
        .get("enabled")
        .asBoolean()) {
      assertTrue(System.nanoTime() < deadline, "the endpoint was never disabled");
      Thread.sleep(200);
    }

    signIn();
    visible("disabled-webhooks");
    wait.until(
        d ->
            d.findElements(testIdLocator("disabled-webhook")).stream()
                .anyMatch(e -> e.getText().contains(name) && e.getText().contains(url)));
    WebElement stored =
        wait.until(
            d ->
                d.findElement(
                    By.cssSelector(
                        "[data-testid='tenant-storage'][data-tenant-id='" + tenant.id() + "']")));
    // the job's result (and its input, until the purge) are stored: a non-zero figure
    wait.until(d -> stored.getText().matches("[1-9][0-9.]* (B|KiB)"));
  }

  // ---- what an admin does ----

  /** Signs in, which opens the overview, and goes on to the tenants. */
  private static void signIn() {
    typeInto("token-input", TestNode.ADMIN_TOKEN);
    testId("login-button").click();
    visible("overview-panel");
    testId("nav-tenants").click();
    visible("tenants-panel");
  }

  /** Creates a tenant, which the console then opens; answers its id. */
  private static String createTenant(String name) {
    typeInto("tenant-name-input", name);
    testId("create-tenant-button").click();
    waitForText("message", "Created tenant " + name + ".");
    waitForText("tenant-title", name);
    By row = By.xpath("//tr[@data-testid='tenant-row'][.//span[text()='" + name + "']]");
    return wait.until(d -> d.findElement(row).getDomAttribute("data-tenant-id"));
  }

  /** Issues a key to the open tenant; answers the secret the page shows. */
  private static String issueKey(String keyName) {
    typeInto("key-name-input", keyName);
    testId("issue-key-button").click();
    waitForText("message", "Issued the key " + keyName + ".");
    String secret = shownSecret();
    wait.until(d -> !keyRows(keyName).isEmpty());
    return secret;
  }

  private static String shownSecret() {
    visible("issued-secret");
    return wait.until(
        d -> {
          String value = testId("issued-secret-value").getDomProperty("value");
          return value != null && value.startsWith("rtn_live_") ? value : null;
        });
  }

  private static void openModels() {
    testId("nav-models").click();
    visible("models-panel");
  }

  private static By modelLocator(String name) {
    return By.cssSelector("[data-testid='model'][data-model='" + name + "']");
  }

  private static By versionRowLocator(String ref) {
    return By.cssSelector("[data-testid='model-version-row'][data-ref='" + ref + "']");
  }

  private static WebElement versionRow(String ref) {
    return driver.findElement(versionRowLocator(ref));
  }

  private static void waitForModelText(String name, String text) {
    wait.until(ExpectedConditions.textToBePresentInElementLocated(modelLocator(name), text));
  }

  private static void waitForRowText(String ref, String text) {
    wait.until(ExpectedConditions.textToBePresentInElementLocated(versionRowLocator(ref), text));
  }

  private static void waitForStatus(String ref, String status) {
    wait.until(ExpectedConditions.attributeToBe(versionRowLocator(ref), "data-status", status));
    assertEquals(status, versionRow(ref).findElement(testIdLocator("version-status")).getText());
  }

  /** Clicks a button inside the element found, once it is there. */
  private static void clickIn(By within, String button) {
    wait.until(
        d -> {
          WebElement found =
              d.findElements(within).stream()
                  .flatMap(e -> e.findElements(testIdLocator(button)).stream())
                  .findFirst()
                  .orElse(null);
          if (found != null) found.click();
          return found != null;
        });
  }

  private static List<WebElement> keyRows(String keyName) {
    return driver.findElements(
        By.xpath("//tr[@data-testid='key-row'][th[text()='" + keyName + "']]"));
  }

  /** Clicks a button of the live key of that name. */
  private static void clickKeyButton(String keyName, String button) {
    wait.until(
        d -> {
          WebElement found =
              keyRows(keyName).stream()
                  .flatMap(r -> r.findElements(testIdLocator(button)).stream())
                  .findFirst()
                  .orElse(null);
          if (found != null) found.click();
          return found != null;
        });
  }

  private static WebElement tenantRow(String id) {
    return driver.findElement(
        By.cssSelector("[data-testid='tenant-row'][data-tenant-id='" + id + "']"));
  }

  /** Waits for an audit entry of that action whose row reads all of the texts. */
  private static void waitForAuditRow(String action, String... texts) {
    By rows = By.cssSelector("[data-testid='audit-row'][data-action='" + action + "']");
    wait.until(
        d ->
            d.findElements(rows).stream()
                .map(WebElement::getText)
                .anyMatch(text -> Stream.of(texts).allMatch(text::contains)));
  }

  private static By jobRowLocator(String id) {
    return By.cssSelector("[data-testid='job-row'][data-job-id='" + id + "']");
  }

  /** Chooses a filter of the jobs view by the text shown, once the choice is there. */
  private static void chooseJobFilter(String select, String text) {
    wait.until(
        d -> {
          Select s = new Select(testId(select));
          boolean there = s.getOptions().stream().anyMatch(o -> o.getText().equals(text));
          if (there) s.selectByVisibleText(text);
          return there;
        });
  }

  // ---- page helpers ----

  private static By testIdLocator(String id) {
    return By.cssSelector("[data-testid='" + id + "']");
  }

  private static WebElement testId(String id) {
    return driver.findElement(testIdLocator(id));
  }

  private static WebElement visible(String id) {
    return wait.until(ExpectedConditions.visibilityOfElementLocated(testIdLocator(id)));
  }

  private static void waitForText(String id, String text) {
    wait.until(ExpectedConditions.textToBePresentInElementLocated(testIdLocator(id), text));
  }

  private static void typeInto(String id, String text) {
    WebElement input = visible(id);
    input.clear();
    input.sendKeys(text);
  }

  // ---- helpers ----

  private static int activeVersion(String model) {
    return http.get("/admin/models/" + model, TestNode.ADMIN_TOKEN)
        .json()
        .get("activeVersion")
        .asInt();
  }

  private static String versionStatus(String model, String ref) {
    for (JsonNode v :
        http.get("/admin/models/" + model, TestNode.ADMIN_TOKEN).json().get("versions")) {
      if (v.get("ref").asText().equals(ref)) return v.get("status").asText();
    }
    throw new AssertionError(ref + " is not listed");
  }

  private static void adminPost(String path) {
    Http.Reply r =
        http.send(
            http.to(path)
                .header("Authorization", "Bearer " + TestNode.ADMIN_TOKEN)
                .POST(HttpRequest.BodyPublishers.noBody()));
    assertEquals(200, r.status(), r.toString());
  }

  private static Http.Reply adminPut(String path, String json) {
    return http.send(
        http.to(path)
            .header("Authorization", "Bearer " + TestNode.ADMIN_TOKEN)
            .header("Content-Type", "application/json")
            .PUT(HttpRequest.BodyPublishers.ofString(json)));
  }

  private static String uniqueName() {
    return "console-" + UUID.randomUUID().toString().substring(0, 8);
  }

  /** Micros as the console shows them: currency units, 2 to 6 decimals, grouped. */
  private static String units(long micros) {
    DecimalFormat format =
        new DecimalFormat("#,##0.00####", DecimalFormatSymbols.getInstance(Locale.US));
    return format.format(BigDecimal.valueOf(micros, 6));
  }

  private static String read(Path p) {
    try {
      return Files.readString(p, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static void deleteTree(Path root) throws IOException {
    if (root == null || !Files.exists(root)) return;
    try (Stream<Path> paths = Files.walk(root)) {
      paths.sorted(Comparator.reverseOrder()).map(Path::toFile).forEach(File::delete);
    }
  }
}
