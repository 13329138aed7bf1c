package oversell.streams;

import java.util.List;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.KStream;
import org.apache.kafka.streams.kstream.Named;
import org.apache.kafka.streams.kstream.Produced;
import org.apache.kafka.streams.kstream.Repartitioned;
import org.apache.kafka.streams.state.KeyValueBytesStoreSupplier;
import org.apache.kafka.streams.state.Stores;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * <pre>
 * orders ─parse─► key productId (orderId if unreadable) ─► orders-by-product repartition ─┐
 *                                                                                         ├─► reserve ─► decisions
 * stock (keyed by productId, co-partitioned) ─────────────────────────────────────────────┘  [stock, decided]
 * </pre>
 * The stock topic is read directly by the processor's task, beside the repartitioned orders, so a
 * task sees a product's stock events and orders in timestamp order (Streams picks the oldest head
 * record across its partitions and waits for a partition it knows has data on the broker). Merging
 * stock into the repartition topic instead orders them by which upstream task happened to write
 * first, and an order can overtake its product's StockSet during a rebalance.
 */
final class ReservationTopology {
  private static final Logger log = LoggerFactory.getLogger(ReservationTopology.class);

  private ReservationTopology() {}

  /** @param partitions of the stock topic; the orders repartition topic gets as many. */
  static Topology build(Settings s, boolean persistent, int partitions) {
    StreamsBuilder b = new StreamsBuilder();
    b.addStateStore(Stores.keyValueStoreBuilder(store(ReservationProcessor.STOCK_STORE, persistent),
        Serdes.String(), Serdes.Long()));
    b.addStateStore(Stores.keyValueStoreBuilder(store(ReservationProcessor.DECIDED_STORE, persistent),
        Serdes.String(), Serdes.String()));

    KStream<String, String> orders = b
        .stream(s.topic("orders"), Consumed.with(Serdes.String(), Serdes.String()).withName("orders"))
        .map((k, v) -> {
          Events.Routed r = Events.routeOrder(k, v);
          return KeyValue.pair(r.key(), r.json());
        }, Named.as("parse-order"))
        .repartition(Repartitioned.with(Serdes.String(), Serdes.String()).withName("orders-by-product")
            .withNumberOfPartitions(partitions));

    // Key-preserving (flatMapValues): the stock topic is already partitioned by productId.
    KStream<String, String> stock = b
        .stream(s.topic("stock"), Consumed.with(Serdes.String(), Serdes.String()).withName("stock"))
        .flatMapValues((k, v) -> {
          try {
            return List.of(Events.routeStock(v).json());
          } catch (Events.Invalid e) {
            log.warn("ignoring a stock record that breaks the contract (key {}): {}", k, e.getMessage());
            return List.<String>of();
          }
        }, Named.as("parse-stock"));

    stock.merge(orders, Named.as("merge"))
        .process(() -> new ReservationProcessor(s.instance, s.topic("stock"), partitions), Named.as("reserve"),
            ReservationProcessor.STOCK_STORE, ReservationProcessor.DECIDED_STORE)
        .to(s.topic("decisions"), Produced.with(Serdes.String(), Serdes.String()).withName("decisions"));
    return b.build();
  }

  private static KeyValueBytesStoreSupplier store(String name, boolean persistent) {
    return persistent ? Stores.persistentKeyValueStore(name) : Stores.inMemoryKeyValueStore(name);
  }
}
