/* The smallest corral program: an embedded server, a client, one node.
 *   cc hello.c $(pkg-config --cflags --libs corral) -o hello && ./hello
 * prints "hi version=0". */
#include <corral.h>
#include <stdio.h>

int main(void) {
    corral_server *srv = NULL;
    if (corral_server_start(NULL, &srv) != CORRAL_OK) return 1;      /* embedded, ephemeral port */
    corral_client *zk = NULL;
    if (corral_client_connect(corral_server_connect_string(srv), 10000, &zk) != CORRAL_OK) return 1;
    char path[256]; size_t path_len = 0;
    corral_client_create(zk, "/demo", (const uint8_t *)"hi", 2, CORRAL_PERSISTENT,
                         path, sizeof path, &path_len);
    uint8_t buf[64]; size_t len = 0; corral_stat stat;
    if (corral_client_get(zk, "/demo", buf, sizeof buf, &len, &stat) == CORRAL_OK)
        printf("%.*s version=%d\n", (int)len, (const char *)buf, stat.version);
    corral_client_free(zk);
    corral_server_free(srv);
    return 0;
}
