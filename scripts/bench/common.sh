# Shared by scripts/bench-daemon and scripts/bench-probe (sourced after scripts/bootstrap, from the
# repository root, with $work a scratch folder and `pids` an array the caller kills on exit).

free_port() { .venv/bin/python -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# Starts nginx (one worker, answers "ok" to every GET) on a free port; sets nginx_port.
start_nginx() {
  nginx_port=$(free_port)
  cat > "$work/nginx.conf" <<NGINX
daemon off; worker_processes 1; pid $work/nginx.pid; error_log $work/nginx-error.log;
events { worker_connections 4096; }
http { access_log off; server { listen 127.0.0.1:$nginx_port; location / { return 200 "ok\n"; } } }
NGINX
  nginx -c "$work/nginx.conf" -p "$work" & pids+=($!)
}

# The floors under a probe: CPU (user + system) per fresh-connection GET, 20 at a time, of Apache
# Bench (TCP alone) and of a bare libcurl client in C with an HTTP probe's options and headers
# (scripts/bench/curl_floor.c: what any libcurl prober pays before its own work). Sets tcp_floor_us
# and curl_floor_us (whole µs); curl_floor_paced_us starts 20 every 20 ms, the daemon's rhythm.
measure_floors() {
  local url=$1 requests=$2 times
  times=$( { /usr/bin/time -f "%U %S" ab -q -n "$requests" -c 20 "$url" >/dev/null; } 2>&1 | tail -1)
  tcp_floor_us=$(awk -v t="$times" -v n="$requests" 'BEGIN { split(t, a, " "); printf "%.0f", (a[1] + a[2]) / n * 1e6 }')
  cc -O2 -o "$work/curl_floor" scripts/bench/curl_floor.c -lcurl
  curl_floor_us=$("$work/curl_floor" "$url" "$requests" 20 | awk '{print $(NF-3)}')
  curl_floor_paced_us=$("$work/curl_floor" "$url" "$requests" 20 20 | awk '{print $(NF-3)}')
}
