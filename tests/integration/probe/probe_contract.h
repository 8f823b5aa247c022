/*
 * probe_contract.h - the events of the test-only context "probe", declared
 * the way every context declares its own (a struct and a table).
 */
#ifndef PROBE_CONTRACT_H
#define PROBE_CONTRACT_H

#include "common/contract.h"

/* probe.item.created (v1): a test item was created; behaviour steers the handler. */
extern const struct contract_event PROBE_ITEM_CREATED;

struct probe_item_created {
    char item[65];
    char behaviour[33]; /* "" = ok */
};

/* probe.item.handled (v1): a test item was handled (the "chain" behaviour). */
extern const struct contract_event PROBE_ITEM_HANDLED;

struct probe_item_handled {
    char item[65];
};

#endif
