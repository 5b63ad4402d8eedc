/* A C caller of the crmsync ABI: version, client, a synchronous call, a NULL argument, and a
 * paged operation pulled to its end. Usage: abi_smoke <organization url> */
#include "crmsync.h"

#include <stdio.h>
#include <string.h>

static int count(const char *text, const char *needle) {
    int n = 0;
    for (const char *p = strstr(text, needle); p != NULL; p = strstr(p + 1, needle)) n++;
    return n;
}

static int fail(int code, char *error) {
    fprintf(stderr, "failed (%d): %s\n", code, error != NULL ? error : "(no error document)");
    crmsync_string_free(error);
    return code;
}

int main(int argc, char **argv) {
    if (argc != 2) return 2;
    if (crmsync_abi_version() != CRMSYNC_ABI_VERSION) return 10;

    char config[2048];
    snprintf(config, sizeof config,
             "{\"version\":1,\"url\":\"%s\",\"credential\":{\"kind\":\"access_token\",\"access_token\":\"sim-token-admin\"}}", argv[1]);
    crmsync_client *client = NULL;
    char *error = NULL;
    if (crmsync_client_new((const uint8_t *)config, strlen(config), &client, &error) != CRMSYNC_STATUS_OK) return fail(11, error);

    char *result = NULL;
    if (crmsync_who_am_i(client, &result, &error) != CRMSYNC_STATUS_OK) return fail(12, error);
    printf("who_am_i %s\n", result);
    crmsync_string_free(result);

    result = NULL;
    if (crmsync_who_am_i(NULL, &result, &error) != CRMSYNC_STATUS_NULL_ARGUMENT || result != NULL || error == NULL) return 13;
    crmsync_string_free(error);
    error = NULL;

    const char *query = "{\"version\":1,\"page_size\":7}";
    crmsync_operation *op = NULL;
    if (crmsync_mailboxes_list_start(client, (const uint8_t *)query, strlen(query), &op, &error) != CRMSYNC_STATUS_OK) return fail(14, error);
    int pages = 0, mailboxes = 0;
    for (;;) {
        char *event = NULL;
        crmsync_status status = crmsync_op_next_event(op, 10000, &event, &error);
        if (status == CRMSYNC_STATUS_END_OF_EVENTS) break;
        if (status != CRMSYNC_STATUS_OK) return fail(15, error);
        if (strstr(event, "\"type\":\"items\"") != NULL) {
            pages++;
            mailboxes += count(event, "\"mailbox_id\"");
        }
        crmsync_string_free(event);
    }
    if (crmsync_op_result(op, &result, &error) != CRMSYNC_STATUS_OK) return fail(16, error);
    printf("result %s\n", result);
    crmsync_string_free(result);
    crmsync_op_free(op);
    crmsync_client_free(client);
    printf("pages=%d mailboxes=%d\n", pages, mailboxes);
    return 0;
}
