/* main.c - the payment executable: everything it is lives in service.c. */
#include "payment/service.h"
#include "common/service.h"

int main(int argc, char **argv)
{
    return service_main(argc, argv, &payment_service);
}
