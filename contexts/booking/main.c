/* main.c - the booking executable: everything it is lives in service.c. */
#include "booking/service.h"
#include "common/service.h"

int main(int argc, char **argv)
{
    return service_main(argc, argv, &booking_service);
}
