/*
 * service.c - the composition root of payment: its name and port, its one
 * config key, and the tables of routes.c, handlers.c and the contract.
 * Nothing runs here; service_main (common/service.c) runs the phases.
 */
#include "payment/service.h"

#include "common/service.h"

#include "payment/contract/payment_contract.h"
#include "payment/domain/payment.h"
#include "payment/handlers.h"
#include "payment/routes.h"

#include <stddef.h>

#define PAYMENT_HTTP_PORT 8085 /* SPEC §1 */

/*
 * Filled by the config phase before any thread starts; see struct payment_app.
 * The descriptor is const, so the table sizes come from the PAYMENT_N*
 * macros, which routes.c and handlers.c check against their tables.
 */
static struct payment_app payment_app;

/*
 * PAYMENT_LIMIT_CENTS: amounts above it are declined with 'limit_exceeded'.
 * The SPEC's default is 100000 (1000.00). Bounded by the domain's
 * PAYMENT_LIMIT_MIN..PAYMENT_LIMIT_MAX (1..2000000000): the config loader
 * stores an int, so the limit cannot reach the largest booking amount
 * (100000000000); a bigger one would have to become a 64-bit setting.
 */
static const struct config_key payment_config_keys[] = {
    {"PAYMENT_LIMIT_CENTS", "--payment-limit-cents", CONFIG_INT, "100000", PAYMENT_LIMIT_MIN,
     PAYMENT_LIMIT_MAX, NULL, 0, offsetof(struct payment_app, limit_cents),
     "largest amount in cents a payment may charge; above it the payment fails with "
     "'limit_exceeded'"},
};

const struct service_def payment_service = {
    .name = "payment",
    .http_port = PAYMENT_HTTP_PORT,
    .config_keys = payment_config_keys,
    .nconfig_keys = sizeof(payment_config_keys) / sizeof(payment_config_keys[0]),
    .config = &payment_app,
    SERVICE_TABLES(payment),
    .app = &payment_app,
};
