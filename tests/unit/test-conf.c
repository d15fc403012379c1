/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests of the shmd.conf parser: every key, drop-in order, every error with FILE:LINE. */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysinfo.h>
#include <unistd.h>

#include "conf.h"
#include "options.h"
#include "testlib.h"

static char dir[] = "/tmp/test-conf.XXXXXX";
static char path[4200];

static void write_file(const char *file, const char *text)
{
	FILE *f = fopen(file, "we");
	if (!f || fputs(text, f) < 0 || fclose(f) != 0)
		bail_out("cannot write %s", file);
}

/* Parse text as DIR/shmd.conf (no drop-ins). */
static int parse(struct shmd_conf *c, const char *text, struct conf_error *err)
{
	snprintf(path, sizeof(path), "%s/shmd.conf", dir);
	write_file(path, text);
	conf_init(c);
	return conf_load(c, path, true, err);
}

/* text must be refused at line with a reason containing want. */
static void refuses(const char *text, unsigned line, const char *want)
{
	struct shmd_conf c;
	struct conf_error err = { 0 };
	int r = parse(&c, text, &err);

	ok(r == -EINVAL && err.line == line && strstr(err.reason, want) &&
		   strcmp(err.file, path) == 0,
	   "refused at line %u with '%s': %s:%u: %s", line, want, err.file, err.line, err.reason);
	conf_done(&c);
}

static void test_keys(void)
{
	struct shmd_conf c;
	struct conf_error err = { 0 };
	struct sysinfo si;
	int r = parse(&c,
		      "# comment\n"
		      "; another\n"
		      "[Global]\nMemoryMax=8G\nRegionsMax=1000\n"
		      "[AnyUser]\nMemoryMax=10%\nRegionsMax=infinity\n"
		      "[AnyUnit]\nMemoryMax=512M\nRegionsMax=50\n"
		      "[User 65534]\nMemoryMax=1M\n"
		      "[User root]\nRegionsMax=7\n"
		      "[Group 100]\nMemoryMax=1.5G\n"
		      "[Group root]\nMemoryMax=infinity\nRegionsMax=3\n"
		      "[Unit qemu@vm1.service]\nMemoryMax=8G\n"
		      "[Unit qemu@*.service]\nMemoryMax=4G\nRegionsMax=10\n"
		      "[Prefix vm/]\nUser=65534\nGroup=root\nUnit=qemu@*.service\n"
		      "[Daemon]\nMaxRegions=100\nMaxConnections=10\nMaxConnectionsPerUid=5\n"
		      "MaxMessageBytes=2K\nMaxOutputBytes=128K\nMessageTimeoutSec=3\n"
		      "IdleTimeoutSec=60\nAdminGroup=root\nLogTarget=console\nLogLevel=debug\n"
		      "Socket=/tmp/x.sock\n",
		      &err);

	if (!is_int(r, 0, "a file with every key parses"))
		diag("%s:%u: %s", err.file, err.line, err.reason);
	sysinfo(&si);
	is_int((long long)c.global.memory_max, 8LL << 30, "[Global] MemoryMax=8G");
	is_int((long long)c.global.regions_max, 1000, "[Global] RegionsMax=1000");
	is_int((long long)c.any_user.memory_max,
	       (long long)((uint64_t)si.totalram * si.mem_unit / 100 * 10),
	       "[AnyUser] MemoryMax=10%%");
	ok(c.any_user.regions_max == CONF_UNLIMITED, "RegionsMax=infinity");
	is_int((long long)c.any_unit.memory_max, 512LL << 20, "[AnyUnit] MemoryMax=512M");
	is_int((long long)c.any_unit.regions_max, 50, "[AnyUnit] RegionsMax=50");

	const struct conf_subject *s = conf_find_id(&c, CONF_USER, 65534);
	ok(s && s->limit.memory_max == 1 << 20 && s->limit.regions_max == CONF_UNLIMITED,
	   "[User 65534] MemoryMax=1M, RegionsMax unset");
	s = conf_find_id(&c, CONF_USER, 0);
	ok(s && s->limit.regions_max == 7, "[User root] by name");
	s = conf_find_id(&c, CONF_GROUP, 100);
	ok(s && s->limit.memory_max == 3ULL << 29, "[Group 100] MemoryMax=1.5G");
	s = conf_find_id(&c, CONF_GROUP, 0);
	ok(s && s->limit.regions_max == 3 && s->limit.memory_max == CONF_UNLIMITED,
	   "[Group root] by name");
	ok(!conf_find_id(&c, CONF_USER, 1), "no section for uid 1");

	s = conf_find_unit(&c, "qemu@vm1.service");
	ok(s && strcmp(s->unit, "qemu@vm1.service") == 0, "an exact [Unit] wins over a glob");
	s = conf_find_unit(&c, "qemu@vm2.service");
	ok(s && s->glob && s->limit.memory_max == 4ULL << 30, "the glob matches qemu@vm2.service");
	ok(!conf_find_unit(&c, "sshd.service"), "no [Unit] for sshd.service");

	ok(c.n_prefixes == 1 && strcmp(c.prefixes[0].prefix, "vm/") == 0 &&
		   c.prefixes[0].has_user && c.prefixes[0].user == 65534 &&
		   c.prefixes[0].has_group && c.prefixes[0].group == 0 &&
		   strcmp(c.prefixes[0].unit, "qemu@*.service") == 0,
	   "[Prefix vm/] User=, Group=, Unit=");

	is_int((long long)c.n_options, 11, "11 [Daemon] keys kept");
	struct config cfg;
	char reason[CONF_REASON_MAX];
	bool all = true;
	config_init(&cfg);
	for (size_t i = 0; i < c.n_options; i++)
		all &= config_set_key(&cfg, c.options[i].key, c.options[i].value, reason,
				      sizeof(reason)) == 0;
	ok(all && cfg.max_regions == 100 && cfg.max_connections == 10 &&
		   cfg.max_connections_per_uid == 5 && cfg.max_message_bytes == 2048 &&
		   cfg.max_output_bytes == 128 * 1024 && cfg.message_timeout_usec == 3000000 &&
		   cfg.idle_timeout_usec == 60000000 && cfg.have_admin_gid && cfg.admin_gid == 0 &&
		   cfg.log_level == 7 && strcmp(cfg.socket_path, "/tmp/x.sock") == 0,
	   "[Daemon] keys apply as their options");
	is_int(c.options[0].line, 31, "the line of MaxRegions= is kept");
	ok(conf_has_limits(&c), "limits are set");
	conf_done(&c);

	r = parse(&c, "", &err);
	ok(r == 0 && !conf_has_limits(&c) && c.global.memory_max == CONF_UNLIMITED,
	   "an empty file: no limits");
	conf_done(&c);
}

static void test_dropins(void)
{
	struct shmd_conf c;
	struct conf_error err = { 0 };
	char d[4300], f[4400];

	snprintf(d, sizeof(d), "%s/shmd.conf.d", dir);
	mkdir(d, 0755);
	snprintf(f, sizeof(f), "%s/20-b.conf", d);
	write_file(f, "[User 65534]\nMemoryMax=3M\n[Global]\nRegionsMax=9\n");
	snprintf(f, sizeof(f), "%s/10-a.conf", d);
	write_file(f, "[User 65534]\nMemoryMax=2M\nRegionsMax=4\n");
	snprintf(f, sizeof(f), "%s/30-c.conf.disabled", d);
	write_file(f, "[Nonsense\n");
	int r = parse(&c, "[User 65534]\nMemoryMax=1M\n[Global]\nMemoryMax=1G\n", &err);
	const struct conf_subject *s = conf_find_id(&c, CONF_USER, 65534);
	ok(r == 0 && s && s->limit.memory_max == 3 << 20 && s->limit.regions_max == 4,
	   "drop-ins in lexical order, the later wins key by key");
	ok(c.global.memory_max == 1 << 30 && c.global.regions_max == 9,
	   "keys a drop-in does not set are kept");
	is_int((long long)c.n_files, 3, "three files read (not *.conf.disabled)");
	conf_done(&c);

	snprintf(f, sizeof(f), "%s/20-b.conf", d);
	write_file(f, "\n\n[User 65534]\nMemoryMax=lots\n");
	conf_init(&c);
	r = conf_load(&c, path, true, &err);
	ok(r == -EINVAL && strcmp(err.file, f) == 0 && err.line == 4,
	   "a bad drop-in is named with its line: %s:%u: %s", err.file, err.line, err.reason);
	conf_done(&c);
	unlink(f);
	snprintf(f, sizeof(f), "%s/10-a.conf", d);
	unlink(f);
	snprintf(f, sizeof(f), "%s/30-c.conf.disabled", d);
	unlink(f);
	rmdir(d);

	snprintf(f, sizeof(f), "%s/absent.conf", dir);
	conf_init(&c);
	ok(conf_load(&c, f, false, &err) == 0 && c.n_files == 0, "a missing default file is fine");
	r = conf_load(&c, f, true, &err);
	ok(r == -EINVAL && err.line == 0 && strstr(err.reason, "cannot open"),
	   "a missing --config file is an error: %s:%u: %s", err.file, err.line, err.reason);
	conf_done(&c);
}

static void test_errors(void)
{
	refuses("MemoryMax=1G\n", 1, "outside a section");
	refuses("[Global]\nMemoryMax=1G\n[Global\n", 3, "syntax error");
	refuses("[Global]\nno equals sign here\n", 2, "syntax error");
	refuses("\n[Bogus]\nMemoryMax=1\n", 3, "unknown section [Bogus] (known: Daemon, Spill,");
	refuses("[Global]\nMemoryMin=1\n", 2, "unknown key 'MemoryMin'");
	refuses("[Global]\nMemoryMax=1Q\n", 2, "expected a size");
	refuses("[Global]\nMemoryMax=\n", 2, "expected a size");
	refuses("[Global]\nMemoryMax=8E\n", 2, "too large");
	refuses("[Global]\nMemoryMax=101%\n", 2, "whole percentage");
	refuses("[Global]\nMemoryMax=1.5%\n", 2, "whole percentage");
	refuses("[AnyUser]\nRegionsMax=-1\n", 2, "expected a number");
	refuses("[AnyUnit]\nRegionsMax=5000000000\n", 2, "expected a number");
	refuses("[User]\nMemoryMax=1\n", 2, "needs a name");
	refuses("[User no-such-user-xyz]\nMemoryMax=1\n", 2, "no such user");
	refuses("[Group no-such-group-xyz]\nMemoryMax=1\n", 2, "no such group");
	refuses("[User 4294967295]\nMemoryMax=1\n", 2, "no such user");
	refuses("[Unit a b]\nMemoryMax=1\n", 2, "unexpected character");
	refuses("[Unit x]\nUser=1\n", 2, "unknown key 'User'");
	refuses("[Prefix vm/]\nMemoryMax=1\n", 2, "expected User=, Group= or Unit=");
	refuses("[Prefix a//b]\nUser=1\n", 2, "prefix 'a//b'");
	refuses("[Prefix vm/]\nUser=no-such-user-xyz\n", 2, "no such user");
	refuses("[Prefix vm/]\nGroup=no-such-group-xyz\n", 2, "no such group");
	refuses("[Prefix vm/]\nUnit=\n", 2, "must be 1 to 255 bytes");
	refuses("[Daemon]\nMaxRegions=0\n", 2, "MaxRegions=: invalid value '0': out of range");
	refuses("[Daemon]\nMaxConnections=x\n", 2, "not a number");
	refuses("[Daemon]\nMaxConnectionsPerUid=0\n", 2, "out of range");
	refuses("[Daemon]\nMaxMessageBytes=1\n", 2, "out of range");
	refuses("[Daemon]\nMaxOutputBytes=zz\n", 2, "not a size");
	refuses("[Daemon]\nMessageTimeoutSec=0\n", 2, "out of range");
	refuses("[Daemon]\nIdleTimeoutSec=100000\n", 2, "out of range");
	refuses("[Daemon]\nAdminGroup=no-such-group-xyz\n", 2, "no such group");
	refuses("[Daemon]\nLogTarget=syslog\n", 2, "expected auto, console or journal");
	refuses("[Daemon]\nLogLevel=loud\n", 2, "expected err, warning");
	refuses("[Daemon]\nSocket=relative\n", 2, "absolute path");
	refuses("[Daemon]\nMaxAnything=1\n", 2, "unknown key 'MaxAnything' in [Daemon]");
	refuses("[Global]\nMemoryMax=1G\nMemoryMax=2G\n[Global]\nRegionsMax=x\n", 5,
		"RegionsMax=x");
	/* The first error is reported, whether inih's or ours. */
	refuses("[Global]\nbad line\nMemoryMax=zz\n", 2, "syntax error");
	refuses("[Global]\nMemoryMax=zz\nbad line\n", 2, "MemoryMax=zz");

	char longline[400];
	memset(longline, 'x', sizeof(longline));
	memcpy(longline, "[Global]\n#", 10);
	longline[sizeof(longline) - 2] = '\n';
	longline[sizeof(longline) - 1] = '\0';
	refuses(longline, 2, "line too long");
}

static void test_spill(void)
{
	struct shmd_conf c;
	struct conf_error err = { 0 };
	char buf[4200];

	/* Defaults: off, 1G, no water marks, the oomd-like trigger. */
	is_int(parse(&c, "", &err), 0, "an empty file parses");
	ok(!c.spill.enable && c.spill.max_size == 1ULL << 30 &&
		   c.spill.high_water == CONF_UNLIMITED &&
		   conf_spill_low_water(&c.spill) == CONF_UNLIMITED &&
		   c.spill.min_idle_usec == 60000000ULL &&
		   strcmp(c.spill.pressure, "some 150000 2000000") == 0,
	   "[Spill] defaults");
	unsetenv("STATE_DIRECTORY");
	is_str(conf_spill_path(&c.spill, buf, sizeof(buf)), SHMD_STATE_DIR "/spill",
	       "default path under the state directory");
	setenv("STATE_DIRECTORY", "/var/lib/x:/var/lib/y", 1);
	is_str(conf_spill_path(&c.spill, buf, sizeof(buf)), "/var/lib/x/spill",
	       "default path under $STATE_DIRECTORY (its first entry)");
	unsetenv("STATE_DIRECTORY");
	conf_done(&c);

	int r = parse(&c,
		      "[Spill]\nEnable=yes\nPath=/srv/spill\nMaxSize=64G\nHighWater=8G\n"
		      "LowWater=6G\nMinIdleSec=0\nPressureTrigger=full 200000 2000000\n",
		      &err);
	if (!is_int(r, 0, "[Spill] with every key parses"))
		diag("%s:%u: %s", err.file, err.line, err.reason);
	ok(c.spill.enable && strcmp(c.spill.path, "/srv/spill") == 0 &&
		   c.spill.max_size == 64ULL << 30 && c.spill.high_water == 8ULL << 30 &&
		   conf_spill_low_water(&c.spill) == 6ULL << 30 && c.spill.min_idle_usec == 0 &&
		   strcmp(c.spill.pressure, "full 200000 2000000") == 0,
	   "[Spill] values");
	conf_done(&c);

	is_int(parse(&c, "[Spill]\nHighWater=1000M\nPressureTrigger=no\n", &err), 0,
	       "HighWater alone");
	ok(conf_spill_low_water(&c.spill) == 1000ULL * 1024 * 1024 / 10 * 9 &&
		   c.spill.pressure[0] == '\0',
	   "LowWater defaults to 90%% of HighWater; PressureTrigger=no turns it off");
	conf_done(&c);

	refuses("[Spill]\nEnable=maybe\n", 2, "Enable=");
	refuses("[Spill]\nPath=spill\n", 2, "absolute path");
	refuses("[Spill]\nMaxSize=1K\n", 2, "at least 1M");
	refuses("[Spill]\nMaxSize=infinity\n", 2, "MaxSize=");
	refuses("[Spill]\nHighWater=lots\n", 2, "N% of RAM or infinity");
	refuses("[Spill]\nLowWater=101%\n", 2, "LowWater=");
	refuses("[Spill]\nMinIdleSec=-1\n", 2, "expected seconds");
	refuses("[Spill]\nPressureTrigger=some 1 100\n", 2, "window must be");
	refuses("[Spill]\nPressureTrigger=some 0 1000000\n", 2, "stall must be");
	refuses("[Spill]\nPressureTrigger=some 2000000 1000000\n", 2, "stall must be");
	refuses("[Spill]\nPressureTrigger=most 1 1000000\n", 2, "some|full");
	refuses("[Spill]\nPressureTrigger=some 1 1000000 x\n", 2, "some|full");
	refuses("[Spill]\nSize=1G\n", 2, "unknown key 'Size' in [Spill]");
	refuses("[Spill]\nHighWater=1G\n\nLowWater=2G\n", 4, "LowWater= is above HighWater=");
	refuses("[Spill]\nLowWater=2G\n", 2, "LowWater= needs HighWater=");
}

int main(void)
{
	if (!mkdtemp(dir))
		bail_out("mkdtemp: %m");
	test_keys();
	test_dropins();
	test_errors();
	test_spill();
	snprintf(path, sizeof(path), "%s/shmd.conf", dir);
	unlink(path);
	rmdir(dir);
	return done_testing();
}
