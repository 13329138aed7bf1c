package oversell.streams;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * The contract's JSON (systems-under-test/contract/events.ts), validated with the same rules as its
 * zod schemas, and the envelopes that travel through the by-product repartition topic.
 */
final class Events {
  private Events() {}

  // JSON.parse refuses trailing garbage; Jackson ignores it unless told otherwise.
  static final ObjectMapper JSON = new ObjectMapper().enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);
  static final long MAX_SAFE_INTEGER = 9007199254740991L; // zod's int() accepts safe integers only
  static final int MAX_ID = 200;

  /** Envelope types on the repartition topic, beside the contract's StockSet/StockAdded/OrderPlaced. */
  static final String INVALID_ORDER = "InvalidOrder";
  static final String NO_KEY = "(no key)";

  /** A routed record: the key for the repartition topic (productId when known) and the envelope. */
  record Routed(String key, String json) {}

  static final class Invalid extends Exception {
    Invalid(String why) {
      super(why, null, false, false);
    }
  }

  static JsonNode parse(String value) throws Invalid {
    if (value == null) throw new Invalid("empty value (tombstone)");
    JsonNode n;
    try {
      n = JSON.readTree(value);
    } catch (JsonProcessingException e) {
      throw new Invalid("not JSON: " + e.getOriginalMessage());
    }
    if (n == null || n.isMissingNode()) throw new Invalid("not JSON: empty");
    if (!n.isObject()) throw new Invalid("value: expected an object");
    return n;
  }

  static String id(JsonNode o, String field) throws Invalid {
    JsonNode v = o.get(field);
    if (v == null || !v.isTextual()) throw new Invalid(field + ": expected a string");
    String s = v.textValue();
    if (s.isEmpty() || s.length() > MAX_ID) throw new Invalid(field + ": expected 1 to " + MAX_ID + " characters");
    return s;
  }

  /** An integer the way JavaScript sees one (2.0 is 2), within the safe range; null otherwise. */
  static Long safeInteger(JsonNode v) {
    if (v == null || !v.isNumber()) return null;
    if (v.isIntegralNumber()) {
      if (!v.canConvertToLong()) return null;
      long n = v.longValue();
      return Math.abs(n) <= MAX_SAFE_INTEGER ? n : null;
    }
    double d = v.doubleValue();
    if (!Double.isFinite(d) || d != Math.rint(d) || Math.abs(d) > MAX_SAFE_INTEGER) return null;
    return (long) d;
  }

  static long quantity(JsonNode o, long min) throws Invalid {
    Long q = safeInteger(o.get("quantity"));
    if (q == null) throw new Invalid("quantity: expected an integer");
    if (q < min) throw new Invalid("quantity: must be at least " + min);
    return q;
  }

  /** An `orders` record as an order routed by productId, or an INVALID rejection to decide. */
  static Routed routeOrder(String key, String value) {
    JsonNode o = null;
    try {
      o = parse(value);
      JsonNode type = o.get("type");
      if (type == null || !"OrderPlaced".equals(type.textValue())) throw new Invalid("type: expected \"OrderPlaced\"");
      String orderId = id(o, "orderId");
      String productId = id(o, "productId");
      long quantity = quantity(o, 1);
      JsonNode customer = o.get("customerId");
      if (customer == null || !customer.isTextual() || customer.textValue().length() > MAX_ID) {
        throw new Invalid("customerId: expected a string of at most " + MAX_ID + " characters");
      }
      JsonNode sent = o.get("sentAtMs");
      if (sent == null || !sent.isNumber() || !Double.isFinite(sent.doubleValue())) {
        throw new Invalid("sentAtMs: expected a number");
      }
      ObjectNode env = JSON.createObjectNode();
      env.put("type", "OrderPlaced").put("orderId", orderId).put("productId", productId)
        .put("quantity", quantity);
      return new Routed(productId, env.toString());
    } catch (Invalid e) {
      return invalid(key, o, e.getMessage());
    }
  }

  /** Salvages what it can for the rejection without trusting the types (as parseOrderRecord does). */
  private static Routed invalid(String key, JsonNode loose, String detail) {
    String orderId = loose != null && loose.path("orderId").isTextual() && !loose.get("orderId").textValue().isEmpty()
        ? loose.get("orderId").textValue()
        : key == null ? "" : key;
    orderId = orderId.isEmpty() ? NO_KEY : truncate(orderId);
    String productId = loose != null && loose.path("productId").isTextual()
        ? truncate(loose.get("productId").textValue())
        : "";
    Long q = loose == null ? null : safeInteger(loose.get("quantity"));
    ObjectNode env = JSON.createObjectNode();
    env.put("type", INVALID_ORDER).put("orderId", orderId).put("productId", productId)
        .put("quantity", q == null ? 0 : q).put("detail", detail);
    // Keyed by orderId so an honest retry of the same bad record meets its first decision.
    return new Routed(orderId, env.toString());
  }

  /** A `stock` record routed by its productId; null (dropped, logged) when it breaks the contract. */
  static Routed routeStock(String value) throws Invalid {
    JsonNode o = parse(value);
    String type = o.path("type").asText("");
    long min;
    switch (type) {
      case "StockSet" -> min = 0;
      case "StockAdded" -> min = 1;
      default -> throw new Invalid("type: expected \"StockSet\" or \"StockAdded\"");
    }
    String productId = id(o, "productId");
    long quantity = quantity(o, min);
    ObjectNode env = JSON.createObjectNode();
    env.put("type", type).put("productId", productId)
        .put("quantity", quantity);
    return new Routed(productId, env.toString());
  }

  static String decision(String type, String orderId, String productId, long quantity, String instance, String reason) {
    ObjectNode d = JSON.createObjectNode();
    d.put("type", type).put("orderId", orderId).put("productId", productId)
        .put("quantity", quantity).put("instance", instance);
    if (reason != null) d.put("reason", reason);
    return d.toString();
  }

  private static String truncate(String s) {
    return s.length() > MAX_ID ? s.substring(0, MAX_ID) : s;
  }
}
