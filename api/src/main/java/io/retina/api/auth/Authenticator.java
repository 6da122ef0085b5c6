package io.retina.api.auth;

import io.retina.api.http.Problem;
import io.retina.platform.tenants.Tenant;
import io.retina.platform.tenants.TenantRepository;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Optional;
import org.apache.pekko.http.javadsl.model.HttpRequest;

/**
 * Who is calling: a tenant by its API key, or the admin by the admin token, both as {@code
 * Authorization: Bearer}. Blocking (the key lookup reads the store): call it on the store
 * dispatcher. Thread-safe.
 */
public final class Authenticator {
  private final TenantRepository tenants;
  private final byte[] adminToken;

  public Authenticator(TenantRepository tenants, String adminToken) {
    this.tenants = tenants;
    this.adminToken = adminToken.getBytes(StandardCharsets.UTF_8);
  }

  /** The calling tenant, or a 401 problem that does not say which part of the key was wrong. */
  public Tenant tenant(HttpRequest request) {
    String token = bearer(request);
    return tenants
        .authenticate(token)
        .orElseThrow(
            () ->
                Problem.unauthorized(
                    "The API key is not valid, was revoked, or its tenant is suspended."));
  }

  /**
   * The calling tenant when this node authenticated its key moments ago, without a store read;
   * empty when {@link #tenant} must ask the store. A request without a Bearer token is refused here
   * already. Does not block.
   */
  public Optional<Tenant> tenantIfKnown(HttpRequest request) {
    return tenants.authenticatedRecently(bearer(request));
  }

  /** Passes if the caller holds the admin token; compares in constant time. */
  public void admin(HttpRequest request) {
    String token = bearer(request);
    if (!MessageDigest.isEqual(adminToken, token.getBytes(StandardCharsets.UTF_8))) {
      throw Problem.unauthorized("The admin token is not valid.");
    }
  }

  private static String bearer(HttpRequest request) {
    Optional<String> header = request.getHeader("Authorization").map(h -> h.value().trim());
    if (header.isEmpty()) {
      throw Problem.unauthorized("Send 'Authorization: Bearer <key>'.");
    }
    String value = header.get();
    if (value.length() < 7 || !value.substring(0, 7).equalsIgnoreCase("Bearer ")) {
      throw Problem.unauthorized("The Authorization header must use the Bearer scheme.");
    }
    return value.substring(7).trim();
  }
}
