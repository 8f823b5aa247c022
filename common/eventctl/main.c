/*
 * main.c - eventctl, the operations tool (SPEC §7): picks the command from
 * the table below and hands it the rest of argv. Each command lives in its
 * own cmd_<name>.c; what they share is in ctl.c.
 */
#include "ctl.h"

#include <string.h>

static const struct ctl_command commands[] = {
    {"messages", "list outbox and inbox rows of every context, newest first", cmd_messages_run},
    {"trace", "the causal chain of one correlation id, as a tree or a Mermaid diagram",
     cmd_trace_run},
    {"requeue", "send a dead inbox message or a failed outbox row back for another try",
     cmd_requeue_run},
    {"purge", "delete dead messages: one, a failure group, or all older than a duration",
     cmd_purge_run},
    {"catalog",
     "every event type: version, publisher, fields, consumers (docs/events.md); "
     "--asyncapi, --schemas DIR",
     cmd_catalog_run},
    {"config", "the configuration reference of the services (docs/config.md)", cmd_config_run},
    {"dashboard", "serve the web dashboard: messages, failures with Retry, a flow's diagram",
     cmd_dashboard_run},
    {"failures", "failures grouped by context, type and cause: dead messages and poison",
     cmd_failures_run},
    {"edit", "send a dead message's edited data back to its consumer as a new message",
     cmd_edit_run},
    {"export", "write a dead letter's raw body (or a dead message's text) to stdout",
     cmd_export_run},
};

static void usage(FILE *out)
{
    fputs("usage: eventctl <command> [options]\n"
          "\n"
          "The operations tool: reads the outbox and inbox of every context's schema.\n"
          "\n"
          "commands:\n",
          out);
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        fprintf(out, "  %-9s %s\n", commands[i].name, commands[i].summary);
    fputs("\n"
          "Commands that read the database take --database-url URL; without it\n"
          "DATABASE_URL, else the services' default. 'eventctl <command> --help' shows\n"
          "a command's options.\n"
          "\n"
          "Exit status: 0 done, 1 failed (database unreachable, nothing found), 2 bad usage.\n",
          out);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return CTL_EXIT_USAGE;
    }
    if (ctl_is_help(argv[1]) || strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return CTL_EXIT_OK;
    }
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        if (strcmp(argv[1], commands[i].name) == 0)
            return commands[i].run(argc - 1, argv + 1);
    return ctl_usage_error(NULL, "unknown command '%.64s'", argv[1]);
}
