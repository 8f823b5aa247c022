/* main.c - the notification executable: the service skeleton with notification's descriptor. */
#include "notification/service.h"
#include "common/service.h"

int main(int argc, char **argv)
{
    return service_main(argc, argv, &notification_service);
}
