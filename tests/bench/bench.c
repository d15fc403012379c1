/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Benchmark harness: repeated timed runs, figures, paired ratios against a baseline, machine line. */

#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>

#include "bench.h"

#define MAX_FIGURES 256
#define MAX_ROWS 64

struct bench_config bench_cfg = { .runs = 5, .seconds = 0.4, .lat_ops = 2000 };

struct row {
	char label[96];
	char unit[24];
	double value; /* a ratio, or the figure's median for absolute rows */
	double target;
	bool at_least;
	bool absolute;
};

static struct bench_figure *figures[MAX_FIGURES];
static size_t n_figures;
static struct row rows[MAX_ROWS];
static size_t n_rows;
static int n_failed;
static double load_start;
static uint64_t start_ns;

/* Machine-wide CPU time from /proc/stat, in clock ticks. */
struct cpu_times {
	unsigned long long busy;  /* user nice system irq softirq */
	unsigned long long steal; /* taken by the hypervisor */
};
static struct cpu_times cpu_start;

uint64_t bench_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static double env_double(const char *name, double def, double min, double max)
{
	const char *s = getenv(name);
	char *end;
	double v;

	if (!s || !*s)
		return def;
	v = strtod(s, &end);
	if (*end || v < min || v > max) {
		fprintf(stderr, "bench: ignoring %s=%s (want %g..%g)\n", name, s, min, max);
		return def;
	}
	return v;
}

static double load1(void)
{
	FILE *f = fopen("/proc/loadavg", "re");
	double l = -1;

	if (f) {
		if (fscanf(f, "%lf", &l) != 1)
			l = -1;
		fclose(f);
	}
	return l;
}

static struct cpu_times cpu_now(void)
{
	unsigned long long user = 0, nice = 0, sys = 0, idle = 0, iow = 0, irq = 0, sirq = 0,
			   steal = 0;
	struct cpu_times t = { 0 };
	FILE *f = fopen("/proc/stat", "re");

	if (!f)
		return t;
	if (fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &user, &nice, &sys, &idle,
		   &iow, &irq, &sirq, &steal) == 8) {
		t.busy = user + nice + sys + irq + sirq;
		t.steal = steal;
	}
	fclose(f);
	return t;
}

/* CPU seconds used by this process and every child it reaped (clients, servers, daemons). */
static double own_cpu_seconds(void)
{
	struct rusage self, kids;
	double s = 0;

	if (getrusage(RUSAGE_SELF, &self) == 0)
		s += (double)self.ru_utime.tv_sec + (double)self.ru_utime.tv_usec / 1e6 +
		     (double)self.ru_stime.tv_sec + (double)self.ru_stime.tv_usec / 1e6;
	if (getrusage(RUSAGE_CHILDREN, &kids) == 0)
		s += (double)kids.ru_utime.tv_sec + (double)kids.ru_utime.tv_usec / 1e6 +
		     (double)kids.ru_stime.tv_sec + (double)kids.ru_stime.tv_usec / 1e6;
	return s;
}

static void cpu_model(char *buf, size_t len)
{
	FILE *f = fopen("/proc/cpuinfo", "re");
	char line[256];

	snprintf(buf, len, "unknown CPU");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		char *colon = strchr(line, ':');
		if (strncmp(line, "model name", 10) != 0 || !colon)
			continue;
		colon += strspn(colon + 1, " \t") + 1;
		colon[strcspn(colon, "\n")] = 0;
		snprintf(buf, len, "%s", colon);
		break;
	}
	fclose(f);
}

static long cores(void)
{
	return sysconf(_SC_NPROCESSORS_ONLN);
}

/* "0-1": the Cpus_allowed_list of /proc/PID/status (0: ourselves). */
static void cpus_allowed(pid_t pid, char *buf, size_t len)
{
	char path[64], line[256];
	FILE *f;

	snprintf(buf, len, "?");
	snprintf(path, sizeof(path), pid > 0 ? "/proc/%d/status" : "/proc/self/status", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "Cpus_allowed_list: %63s", buf) == 1)
			break;
	fclose(f);
}

void bench_note_cpus(const char *part, const char *who, pid_t pid)
{
	char cpus[64];

	cpus_allowed(pid, cpus, sizeof(cpus));
	bench_note("%s: %s (pid %d) may run on CPUs %s", part, who, (int)pid, cpus);
}

void bench_begin(const char *title)
{
	struct utsname u;
	char model[128];

	bench_cfg.runs = (int)env_double("BENCH_RUNS", bench_cfg.runs, 1, BENCH_MAX_RUNS);
	bench_cfg.seconds = env_double("BENCH_SECONDS", bench_cfg.seconds, 0.05, 60);
	bench_cfg.lat_ops = (int)env_double("BENCH_LAT_OPS", bench_cfg.lat_ops, 10, 1000000);

	uname(&u);
	cpu_model(model, sizeof(model));
	load_start = load1();
	cpu_start = cpu_now();
	start_ns = bench_now_ns();
	printf("# %s\n", title);
	printf("# machine: %ld cores, %s, Linux %s %s\n", cores(), model, u.release, u.machine);
	printf("# load at start: %.2f\n", load_start);
	{
		char cpus[64];
		cpus_allowed(0, cpus, sizeof(cpus));
		/* Everything the benchmark starts inherits it: "taskset -c 0" pins all to one CPU. */
		printf("# placement: the benchmark and its clients may run on CPUs %s (of %ld)%s\n",
		       cpus, cores(),
		       strchr(cpus, '-') || strchr(cpus, ',') ? ", unpinned" :
								", pinned: everything on one CPU");
	}
	printf("# runs: %d measured after 1 warm-up; %.2f s per throughput run; %d ops per latency run\n",
	       bench_cfg.runs, bench_cfg.seconds, bench_cfg.lat_ops);
	printf("# %-46s %12s %12s %12s %-9s %s\n", "figure", "median", "min", "max", "unit",
	       "runs");
	fflush(stdout);
}

static const char *verdict(const struct row *r)
{
	if (isnan(r->value))
		return "n/a";
	if (isnan(r->target))
		return "report";
	if (r->at_least)
		return r->value >= r->target ? "PASS" : "MISS";
	return r->value <= r->target ? "PASS" : "MISS";
}

int bench_end(void)
{
	double load_end = load1();
	long c = cores();
	struct cpu_times t = cpu_now();
	double tick = (double)sysconf(_SC_CLK_TCK),
	       wall = (double)(bench_now_ns() - start_ns) / 1e9;
	/* Busy CPU not spent by us: other processes on this machine, in cores. */
	double other = ((double)(t.busy - cpu_start.busy) / tick - own_cpu_seconds()) / wall;
	double steal = (double)(t.steal - cpu_start.steal) / tick / wall;
	bool noisy = load_start > c || load_end > c;

	/* Our own clients count in the load average too; "other" excludes them. */
	printf("# load at end: %.2f; CPU used by other processes during the run: %.2f cores; "
	       "hypervisor steal: %.2f cores\n",
	       load_end, MAX(other, 0.0), steal);
	if (noisy)
		printf("# NOISY RUN: load above the core count (%ld), ratios are suspect (the load "
		       "average also counts this benchmark's own clients)\n",
		       c);
	printf("#\n# %-52s %10s %12s  %s\n", "ratio table (shmd / baseline unless stated)", "value",
	       "target", "result");
	for (size_t i = 0; i < n_rows; i++) {
		const struct row *r = &rows[i];
		char target[32];

		if (isnan(r->target))
			snprintf(target, sizeof(target), "-");
		else
			snprintf(target, sizeof(target), "%s %g%s",
				 r->at_least ? ">=" : "<=", r->target, r->absolute ? r->unit : "x");
		printf("  %-52s %10.3f %12s  %s\n", r->label, r->value, target, verdict(r));
	}
	if (noisy)
		printf("# NOISY: load %.2f at start, %.2f at end, with %ld cores\n", load_start,
		       load_end, c);
	if (n_failed)
		printf("# %d figure(s) could not be measured\n", n_failed);
	fflush(stdout);
	return n_failed;
}

void bench_note(const char *fmt, ...)
{
	va_list ap;

	fputs("# ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	fputc('\n', stdout);
	fflush(stdout);
}

void bench_fail(const char *what, int r)
{
	printf("# FAILED: %s: %s\n", what, strerror(r < 0 ? -r : r));
	fflush(stdout);
	n_failed++;
}

struct bench_figure *bench_figure(const char *name, const char *unit)
{
	struct bench_figure *f;

	for (size_t i = 0; i < n_figures; i++)
		if (strcmp(figures[i]->name, name) == 0)
			return figures[i];
	if (n_figures >= MAX_FIGURES || !(f = calloc(1, sizeof(*f)))) {
		fprintf(stderr, "bench: no room for figure '%s' (MAX_FIGURES %d)\n", name,
			MAX_FIGURES);
		abort();
	}
	snprintf(f->name, sizeof(f->name), "%s", name);
	snprintf(f->unit, sizeof(f->unit), "%s", unit);
	figures[n_figures++] = f;
	return f;
}

void bench_add(struct bench_figure *f, double v)
{
	if (f->n < BENCH_MAX_RUNS)
		f->v[f->n++] = v;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

double bench_percentile(double *v, size_t n, double p)
{
	size_t rank;

	if (n == 0)
		return NAN;
	qsort(v, n, sizeof(double), cmp_double);
	rank = (size_t)ceil(p / 100.0 * (double)n);
	return v[rank ? rank - 1 : 0];
}

static double median_of(const double *v, size_t n)
{
	double tmp[BENCH_MAX_RUNS];

	if (n == 0)
		return NAN;
	memcpy(tmp, v, n * sizeof(double));
	qsort(tmp, n, sizeof(double), cmp_double);
	return n % 2 ? tmp[n / 2] : (tmp[n / 2 - 1] + tmp[n / 2]) / 2;
}

double bench_median(const struct bench_figure *f)
{
	return median_of(f->v, f->n);
}

void bench_print(const struct bench_figure *f)
{
	double lo = INFINITY, hi = -INFINITY;

	for (size_t i = 0; i < f->n; i++) {
		lo = MIN(lo, f->v[i]);
		hi = MAX(hi, f->v[i]);
	}
	printf("  %-46s %12.2f %12.2f %12.2f %-9s %zu\n", f->name, bench_median(f), lo, hi, f->unit,
	       f->n);
	fflush(stdout);
}

static struct row *add_row(const char *label)
{
	struct row *r;

	if (n_rows >= MAX_ROWS) {
		fprintf(stderr, "bench: no room for ratio row '%s' (MAX_ROWS %d)\n", label,
			MAX_ROWS);
		abort();
	}
	r = &rows[n_rows++];
	snprintf(r->label, sizeof(r->label), "%s", label);
	return r;
}

void bench_pair(const char *label, const struct bench_figure *shmd, const struct bench_figure *base,
		double target, bool at_least)
{
	struct row *r = add_row(label);
	double ratios[BENCH_MAX_RUNS];

	r->target = target;
	r->at_least = at_least;
	if (shmd->n == base->n && shmd->n > 0) {
		for (size_t i = 0; i < shmd->n; i++)
			ratios[i] = shmd->v[i] / base->v[i];
		r->value = median_of(ratios, shmd->n);
	} else
		r->value = bench_median(shmd) / bench_median(base);
}

void bench_limit(const char *label, const struct bench_figure *f, double target, bool at_least)
{
	struct row *r = add_row(label);

	r->value = bench_median(f);
	r->target = target;
	r->at_least = at_least;
	r->absolute = true;
	snprintf(r->unit, sizeof(r->unit), " %s", f->unit);
}

void bench_ratio(const char *label, double ratio, double target, bool at_least)
{
	struct row *r = add_row(label);

	r->value = ratio;
	r->target = target;
	r->at_least = at_least;
}

/* What each child reports through the result pipe (small enough to be written atomically). */
struct child_result {
	int err;
	uint64_t ops;
	uint64_t ns;
};

static _Noreturn void child_run(const struct bench_worker *w, int idx, double seconds, int ready_fd,
				int go_fd, int result_fd)
{
	struct child_result res = { 0 };
	void *state = NULL;
	char c = 0;

	res.err = w->setup(w->arg, idx, &state);
	if (write(ready_fd, &c, 1) != 1)
		_exit(2);
	/* The parent closes the go pipe: every child's read returns 0 at once. */
	if (read(go_fd, &c, 1) < 0)
		res.err = negative_errno();
	if (res.err == 0) {
		uint64_t start = bench_now_ns();
		uint64_t deadline = start + (uint64_t)(seconds * 1e9);
		uint64_t now = start;

		while (now < deadline) {
			res.err = w->op(state, res.ops);
			if (res.err < 0)
				break;
			res.ops++;
			now = bench_now_ns();
		}
		res.ns = now - start;
	}
	if (w->teardown)
		w->teardown(state);
	if (write(result_fd, &res, sizeof(res)) != sizeof(res))
		_exit(2);
	_exit(0);
}

static int reap(pid_t *pids, int n)
{
	int r = 0;

	for (int i = 0; i < n; i++) {
		int status;

		if (pids[i] <= 0)
			continue;
		if (waitpid(pids[i], &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status))
			r = -ECHILD;
	}
	return r;
}

static double collect(int result_fd, int n)
{
	double total = 0;
	int err = 0;

	for (int i = 0; i < n; i++) {
		struct child_result res;

		if (read(result_fd, &res, sizeof(res)) != sizeof(res))
			return -EIO;
		if (res.err < 0)
			err = res.err;
		else if (res.ns > 0)
			total += (double)res.ops * 1e9 / (double)res.ns;
	}
	return err < 0 ? err : total;
}

double bench_parallel(const struct bench_worker *w, int n, double seconds)
{
	int ready[2], go[2], result[2];
	pid_t pids[256] = { 0 };
	double total = -EIO;
	int started = 0;
	char c;

	if (n < 1 || n > (int)ELEMENTSOF(pids))
		return -EINVAL;
	if (pipe2(ready, O_CLOEXEC) < 0 || pipe2(go, O_CLOEXEC) < 0 || pipe2(result, O_CLOEXEC) < 0)
		return negative_errno();
	fflush(stdout);
	for (; started < n; started++) {
		pids[started] = fork();
		if (pids[started] < 0)
			break;
		if (pids[started] == 0) {
			close(ready[0]);
			close(go[1]);
			close(result[0]);
			child_run(w, started, seconds, ready[1], go[0], result[1]);
		}
	}
	close(ready[1]);
	close(go[0]);
	close(result[1]);
	for (int i = 0; i < started; i++)
		if (read(ready[0], &c, 1) != 1)
			break;
	close(go[1]); /* start */
	if (started == n)
		total = collect(result[0], n);
	close(ready[0]);
	close(result[0]);
	if (reap(pids, started) < 0 && total >= 0)
		total = -ECHILD;
	return total;
}

long long bench_cpu_usec(pid_t pid)
{
	char path[64], buf[1024], *p;
	unsigned long long ut, st;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return negative_errno();
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -EIO;
	buf[n] = '\0';
	/* Fields after the command (which may hold spaces): state is field 3, utime 14. */
	p = strrchr(buf, ')');
	if (!p ||
	    sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2)
		return -EIO;
	return (long long)((ut + st) * 1000000ULL / (unsigned long long)sysconf(_SC_CLK_TCK));
}

long long bench_children_cpu_usec(void)
{
	struct rusage ru;

	if (getrusage(RUSAGE_CHILDREN, &ru) < 0)
		return 0;
	return (long long)ru.ru_utime.tv_sec * 1000000 + ru.ru_utime.tv_usec +
	       (long long)ru.ru_stime.tv_sec * 1000000 + ru.ru_stime.tv_usec;
}

long long bench_rss_bytes(pid_t pid)
{
	char path[64], line[256];
	long long kb = -ENOENT;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return negative_errno();
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %lld kB", &kb) == 1)
			break;
	fclose(f);
	return kb < 0 ? kb : kb * 1024;
}

long long bench_meminfo_bytes(const char *field)
{
	char line[256], key[64];
	long long kb = -ENOENT, v;
	FILE *f = fopen("/proc/meminfo", "re");

	if (!f)
		return negative_errno();
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%63[^:]: %lld", key, &v) == 2 && strcmp(key, field) == 0) {
			kb = v;
			break;
		}
	fclose(f);
	return kb < 0 ? kb : kb * 1024;
}

int bench_servers_log_begin(void)
{
	const char *path = getenv("BENCH_SERVER_LOG");
	_cleanup_close_ int fd = -1;
	int saved;

	if (!path || !*path)
		return -1;
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0) {
		fprintf(stderr, "bench: %s: %m (servers log to stderr)\n", path);
		return -1;
	}
	fflush(stderr);
	saved = fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 3);
	if (saved < 0 || dup2(fd, STDERR_FILENO) < 0)
		return safe_close(saved);
	return saved;
}

void bench_servers_log_end(int saved_stderr)
{
	if (saved_stderr < 0)
		return;
	fflush(stderr);
	(void)dup2(saved_stderr, STDERR_FILENO);
	safe_close(saved_stderr);
}
