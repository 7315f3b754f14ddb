// Debian's librdkafka-dev 2.0.2 headers, linked against librdkafka 2.16 from the confluent-kafka
// wheel (scripts/bootstrap.sh makes .venv/flashdeal/librdkafka216.so): 2.0.2 cannot talk to
// tansu, and the 2.0 API used here is unchanged in 2.16.
#include <librdkafka/rdkafka.h>
