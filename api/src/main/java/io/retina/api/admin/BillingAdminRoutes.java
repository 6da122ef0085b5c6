package io.retina.api.admin;

import io.retina.api.ApiContext;
import io.retina.api.account.AccountRoutes;
import io.retina.api.http.Responses;
import io.retina.platform.billing.UsageRepository;
import java.nio.charset.StandardCharsets;
import java.time.YearMonth;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.headers.RawHeader;
import org.apache.pekko.http.javadsl.server.PathMatchers;
import org.apache.pekko.http.javadsl.server.Route;

/**
 * Invoices: {@code GET /admin/invoices?month=YYYY-MM} (every tenant's, with line items per model
 * version) and {@code GET /admin/invoices/{month}.csv}. Amounts are sums of the usage ledger, so
 * they are the bill.
 */
final class BillingAdminRoutes extends AdminDirectives {
  BillingAdminRoutes(ApiContext api) {
    super(api);
  }

  Route route() {
    return pathPrefix(
        "invoices",
        () ->
            concat(
                pathEndOrSingleSlash(
                    () ->
                        get(
                            () ->
                                admin(
                                    r -> {
                                      YearMonth month =
                                          AccountRoutes.month(
                                              r.getUri().query().get("month").orElse(null));
                                      return Responses.ok(
                                          Map.of(
                                              "month",
                                              month.toString(),
                                              "invoices",
                                              api.usage().invoices(month).stream()
                                                  .map(BillingAdminRoutes::invoice)
                                                  .toList()));
                                    }))),
                path(
                    PathMatchers.segment(java.util.regex.Pattern.compile("(\\d{4}-\\d{2})\\.csv")),
                    m -> get(() -> admin(r -> csv(AccountRoutes.month(m)))))));
  }

  static Map<String, Object> invoice(UsageRepository.Invoice inv) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("tenantId", inv.tenantId().toString());
    m.put("tenantName", inv.tenantName());
    m.put("month", inv.month().toString());
    m.put("lines", AccountRoutes.lines(inv.lines(), "model"));
    m.put("totalMicros", inv.totalMicros());
    return m;
  }

  private HttpResponse csv(YearMonth month) {
    StringBuilder out =
        new StringBuilder("tenant_id,tenant_name,month,model,jobs,megapixels,amount_micros\n");
    List<UsageRepository.Invoice> invoices = api.usage().invoices(month);
    for (UsageRepository.Invoice inv : invoices) {
      for (UsageRepository.Line l : inv.lines()) {
        out.append(inv.tenantId())
            .append(',')
            .append(csvField(inv.tenantName()))
            .append(',')
            .append(month)
            .append(',')
            .append(csvField(l.key()))
            .append(',')
            .append(l.jobs())
            .append(',')
            .append(l.megapixels().toPlainString())
            .append(',')
            .append(l.amountMicros())
            .append('\n');
      }
    }
    return HttpResponse.create()
        .withEntity(
            ContentTypes.create(
                org.apache.pekko.http.javadsl.model.MediaTypes.TEXT_CSV,
                org.apache.pekko.http.javadsl.model.HttpCharsets.UTF_8),
            out.toString().getBytes(StandardCharsets.UTF_8))
        .addHeader(
            RawHeader.create(
                "Content-Disposition",
                "attachment; filename=\"retina-invoices-" + month + ".csv\""));
  }

  /**
   * A CSV field, quoted when it holds a comma, quote or line break; formula starts are neutralised.
   */
  static String csvField(String value) {
    String v = value;
    if (!v.isEmpty() && "=+-@".indexOf(v.charAt(0)) >= 0) {
      v = "'" + v;
    }
    if (v.contains(",") || v.contains("\"") || v.contains("\n") || v.contains("\r")) {
      return "\"" + v.replace("\"", "\"\"") + "\"";
    }
    return v;
  }
}
