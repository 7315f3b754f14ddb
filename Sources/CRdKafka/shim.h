// Debian's librdkafka-dev 2.0.2 headers, linked against librdkafka 2.16 from the confluent-kafka
// wheel (scripts/bootstrap.sh makes .venv/flashdeal/librdkafka216.so): 2.0.2 cannot talk to
// tansu, and the 2.0 API used here is unchanged in 2.16.
#include <librdkafka/rdkafka.h>

// rd_kafka_producev is variadic, which Swift cannot call: one message with headers, as
// rd_kafka_produce sends one without. On success librdkafka owns `headers`; on failure the caller
// still does.
static inline rd_kafka_resp_err_t flashdeal_produce_with_headers(
    rd_kafka_t *rk, rd_kafka_topic_t *rkt, void *payload, size_t len, const void *key, size_t keylen,
    rd_kafka_headers_t *headers, void *opaque) {
    return rd_kafka_producev(
        rk, RD_KAFKA_V_RKT(rkt), RD_KAFKA_V_PARTITION(RD_KAFKA_PARTITION_UA), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
        RD_KAFKA_V_VALUE(payload, len), RD_KAFKA_V_KEY(key, keylen), RD_KAFKA_V_HEADERS(headers), RD_KAFKA_V_OPAQUE(opaque),
        RD_KAFKA_V_END);
}
