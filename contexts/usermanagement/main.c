/* main.c - the usermanagement executable: one call into the shared service skeleton. */
#include "usermanagement/service.h"
#include "common/service.h"

int main(int argc, char **argv)
{
    return service_main(argc, argv, &usermanagement_service);
}
