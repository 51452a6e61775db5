#!/usr/bin/env bash
# Fills corpus/decode_request and corpus/decode_connect with the client frames
# of the golden wire vectors (tests/data/wire/*.hex), length prefix stripped.
# A file whose first line names a ConnectRequest starts with the handshake
# frame (-> decode_connect); every other client frame is a request
# (-> decode_request). Needs only bash, sed and coreutils.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
wire="$here/../../tests/data/wire"
mkdir -p "$here/corpus/decode_request" "$here/corpus/decode_connect"
n_req=0 n_conn=0
for f in "$wire"/*.hex; do
    stem="$(basename "$f" .hex)"
    connect_first=0
    head -n 1 "$f" | grep -q ConnectRequest && connect_first=1
    i=0
    while read -r dir hex; do
        [ "$dir" = C ] && [ "$hex" != EOF ] || continue
        payload="${hex:8}"                      # drop the 4-byte length prefix
        if [ "$i" -eq 0 ] && [ "$connect_first" -eq 1 ]; then
            target=decode_connect; n_conn=$((n_conn + 1))
        else
            target=decode_request; n_req=$((n_req + 1))
        fi
        # shellcheck disable=SC2059  # the format is only \xHH escapes
        printf "$(printf '%s' "$payload" | sed 's/../\\x&/g')" > "$here/corpus/$target/$stem-$i"
        i=$((i + 1))
    done < "$f"
done
echo "seeded $n_req decode_request and $n_conn decode_connect inputs"
