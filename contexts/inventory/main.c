/* main.c - the inventory executable: everything it is lives in service.c. */
#include "inventory/service.h"
#include "common/service.h"

int main(int argc, char **argv)
{
    return service_main(argc, argv, &inventory_service);
}
