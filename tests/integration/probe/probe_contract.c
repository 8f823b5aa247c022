/* probe_contract.c - the contract tables of the probe's events (see probe_contract.h). */
#include "probe_contract.h"

#define ROW(m) CONTRACT_AT(struct probe_item_created, m)
static const struct contract_field created_fields[] = {
    {"item", CONTRACT_STRING, CONTRACT_REQUIRED, CONTRACT_FORMAT_NONE, 1, 64,
     "what the test tracks", ROW(item)},
    {"behaviour", CONTRACT_STRING, CONTRACT_OPTIONAL, CONTRACT_FORMAT_NAME, 1, 32,
     "what the handler does", ROW(behaviour)},
};
#undef ROW
const struct contract_event PROBE_ITEM_CREATED = {"probe.item.created",
                                                  1,
                                                  "probe",
                                                  "a test item was created",
                                                  created_fields,
                                                  CONTRACT_COUNT(created_fields),
                                                  sizeof(struct probe_item_created)};

#define ROW(m) CONTRACT_AT(struct probe_item_handled, m)
static const struct contract_field handled_fields[] = {
    {"item", CONTRACT_STRING, CONTRACT_REQUIRED, CONTRACT_FORMAT_NONE, 1, 64,
     "what the test tracks", ROW(item)},
};
#undef ROW
const struct contract_event PROBE_ITEM_HANDLED = {"probe.item.handled",
                                                  1,
                                                  "probe",
                                                  "a test item was handled",
                                                  handled_fields,
                                                  CONTRACT_COUNT(handled_fields),
                                                  sizeof(struct probe_item_handled)};
