/* main.c - the servicecatalog executable: everything else is in its descriptor (service.c). */
#include "servicecatalog/service.h"
#include "common/service.h"

int main(int argc, char **argv)
{
    return service_main(argc, argv, &servicecatalog_service);
}
