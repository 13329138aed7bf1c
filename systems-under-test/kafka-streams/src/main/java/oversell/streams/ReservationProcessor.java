package oversell.streams;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.Set;
import org.apache.kafka.common.utils.Utils;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Check and reserve in one step. Every event for a product (stock and orders) arrives on one
 * task, in timestamp order; the store writes (via their changelogs), the decision and the input offset
 * are committed in one transaction, so a crash replays the whole step or none of it.
 */
final class ReservationProcessor implements Processor<String, String, String, String> {
  static final String STOCK_STORE = "stock";
  static final String DECIDED_STORE = "decided";
  private static final Logger log = LoggerFactory.getLogger(ReservationProcessor.class);

  private final String instance;
  private final String stockTopic;
  private final int partitions;
  private final Set<String> misrouted = new HashSet<>();
  private ProcessorContext<String, String> ctx;
  private KeyValueStore<String, Long> stock;
  private KeyValueStore<String, String> decided;

  ReservationProcessor(String instance, String stockTopic, int partitions) {
    this.instance = instance;
    this.stockTopic = stockTopic;
    this.partitions = partitions;
  }

  @Override
  public void init(ProcessorContext<String, String> context) {
    ctx = context;
    stock = context.getStateStore(STOCK_STORE);
    decided = context.getStateStore(DECIDED_STORE);
  }

  @Override
  public void process(Record<String, String> r) {
    JsonNode e;
    try {
      e = Events.parse(r.value());
    } catch (Events.Invalid ex) {
      log.error("dropping an envelope this application did not write: {} ({})", r.value(), ex.getMessage());
      return;
    }
    String type = e.path("type").asText("");
    String productId = e.path("productId").asText("");
    long quantity = e.path("quantity").asLong(0);
    if (type.startsWith("Stock")) checkCoPartitioned(productId);
    switch (type) {
      case "StockSet" -> stock.put(productId, quantity);
      case "StockAdded" -> {
        Long current = stock.get(productId);
        stock.put(productId, saturatingAdd(current == null ? 0 : current, quantity));
      }
      case "OrderPlaced" -> decide(r, e.path("orderId").asText(), productId, quantity);
      case Events.INVALID_ORDER -> {
        String orderId = e.path("orderId").asText();
        // Without a key there is nothing to recognise a retry by: always answer.
        boolean dedupe = !Events.NO_KEY.equals(orderId);
        if (dedupe && decided.get(orderId) != null) return;
        emit(r, orderId, Events.decision("OrderRejected", orderId, productId, quantity, instance, "INVALID"));
        if (dedupe) decided.put(orderId, "OrderRejected:INVALID");
      }
      default -> log.error("dropping an envelope of unknown type {}", type);
    }
  }

  private void decide(Record<String, String> r, String orderId, String productId, long quantity) {
    // A redelivered orderId (an honest retry by the sender) was decided already: decide once.
    if (decided.get(orderId) != null) return;
    Long available = stock.get(productId);
    String outcome;
    String reason = null;
    if (available == null) {
      outcome = "OrderRejected";
      reason = "UNKNOWN_PRODUCT";
    } else if (available >= quantity) {
      stock.put(productId, available - quantity);
      outcome = "OrderReserved";
    } else {
      outcome = "OrderRejected";
      reason = "OUT_OF_STOCK";
    }
    decided.put(orderId, reason == null ? outcome : outcome + ":" + reason);
    emit(r, orderId, Events.decision(outcome, orderId, productId, quantity, instance, reason));
  }

  private void emit(Record<String, String> r, String orderId, String decision) {
    ctx.forward(r.withKey(orderId).withValue(decision));
  }

  /**
   * Orders for a product are partitioned with Java's default partitioner (murmur2 of the key); its
   * stock must be too, or this task keeps it where the product's orders never arrive.
   */
  private void checkCoPartitioned(String productId) {
    var meta = ctx.recordMetadata().orElse(null);
    if (meta == null || !stockTopic.equals(meta.topic())) return;
    int expected = Utils.toPositive(Utils.murmur2(productId.getBytes(StandardCharsets.UTF_8))) % partitions;
    if (expected != meta.partition() && misrouted.add(productId)) {
      log.error("stock for product {} is on {}-{} but its orders go to partition {}: write <ns>.stock "
          + "keyed by productId "
          + "with the default (murmur2) partitioner; orders for it will be rejected UNKNOWN_PRODUCT",
          productId, meta.topic(), meta.partition(), expected);
    }
  }

  private static long saturatingAdd(long a, long b) {
    long s = a + b;
    return ((a ^ s) & (b ^ s)) < 0 ? Long.MAX_VALUE : s;
  }
}
