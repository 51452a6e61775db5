// corral.h from C++17: it must compile cleanly with -Wall -Wextra -Werror and
// give C linkage to every function.
#include <corral.h>

#include <cstdio>
#include <type_traits>

static_assert(std::is_same<corral_result, int32_t>::value, "corral_result is int32_t");
static_assert(CORRAL_OK == 0 && CORRAL_NO_NODE == -101, "ZooKeeper's numbers");

int main() {
    corral_stat stat{};
    corral_result (*connect)(const char *, uint32_t, corral_client **) = corral_client_connect;
    std::printf("%s %d %p\n", corral_result_message(CORRAL_BUFFER_TOO_SMALL), stat.version,
                reinterpret_cast<void *>(connect));
    return 0;
}
