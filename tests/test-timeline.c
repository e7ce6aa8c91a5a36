/* SPDX-License-Identifier: MIT */
/* The timeline's JSON: well-formed, the exact events expected, the
 * bound, escaping, open slices and departures. */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "timeline.h"
#include "test.h"

/* A strict JSON recogniser, enough to say the document parses. */
static bool js_value(const char **p);

static void js_ws(const char **p)
{
	while (**p == ' ' || **p == '\n' || **p == '\t' || **p == '\r')
		(*p)++;
}

static bool js_string(const char **p)
{
	if (**p != '"')
		return false;
	for ((*p)++; **p != '"'; (*p)++) {
		if ((unsigned char)**p < 0x20)
			return false;
		if (**p != '\\')
			continue;
		(*p)++;
		if (**p == 'u') {
			int i;

			for (i = 0; i < 4; i++)
				if (!strchr("0123456789abcdefABCDEF", *++*p) ||
				    !**p)
					return false;
		} else if (!**p || !strchr("\"\\/bfnrt", **p)) {
			return false;
		}
	}
	(*p)++;
	return true;
}

static bool js_digits(const char **p)
{
	const char *s = *p;

	while (**p >= '0' && **p <= '9')
		(*p)++;
	return *p > s;
}

static bool js_number(const char **p)
{
	if (**p == '-')
		(*p)++;
	if (**p == '0')
		(*p)++;
	else if (!js_digits(p))
		return false;
	if (**p == '.' && ((*p)++, !js_digits(p)))
		return false;
	if (**p == 'e' || **p == 'E') {
		(*p)++;
		if (**p == '+' || **p == '-')
			(*p)++;
		if (!js_digits(p))
			return false;
	}
	return true;
}

static bool js_list(const char **p, char close, bool obj)
{
	(*p)++;
	js_ws(p);
	if (**p == close) {
		(*p)++;
		return true;
	}
	for (;;) {
		if (obj) {
			if (!js_string(p))
				return false;
			js_ws(p);
			if (*(*p)++ != ':')
				return false;
		}
		if (!js_value(p))
			return false;
		js_ws(p);
		if (**p == close) {
			(*p)++;
			return true;
		}
		if (*(*p)++ != ',')
			return false;
	}
}

static bool js_value(const char **p)
{
	js_ws(p);
	switch (**p) {
	case '{':
		return js_list(p, '}', true);
	case '[':
		return js_list(p, ']', false);
	case '"':
		return js_string(p);
	case 't':
		return strncmp(*p, "true", 4) == 0 && (*p += 4);
	case 'f':
		return strncmp(*p, "false", 5) == 0 && (*p += 5);
	case 'n':
		return strncmp(*p, "null", 4) == 0 && (*p += 4);
	default:
		return js_number(p);
	}
}

static bool js_valid(const char *s)
{
	if (!js_value(&s))
		return false;
	js_ws(&s);
	return *s == '\0';
}

static void test_checker(void)
{
	CHECK(js_valid("{\"a\":[1,-2.5,3e4,\"x\\\"\\u00e9\",true,null,{}]}"));
	CHECK(!js_valid("{\"a\":[1,]}"));
	CHECK(!js_valid("{\"a\" 1}"));
	CHECK(!js_valid("[\"\\x\"]"));
	CHECK(!js_valid("[1] x"));
	CHECK(!js_valid("[01.]"));
}

/* Render, check it parses, return it (caller frees). */
static char *render(const struct timeline *tl)
{
	char *buf = NULL;
	size_t len = 0;

	CHECK_EQ(timeline_render(tl, &buf, &len), 0);
	if (!buf)
		return NULL;
	CHECK_EQ(strlen(buf), len);
	CHECK(js_valid(buf));
	return buf;
}

static size_t count(const char *s, const char *sub)
{
	size_t n = 0;

	while ((s = strstr(s, sub))) {
		n++;
		s++;
	}
	return n;
}

static void test_events(void)
{
	struct timeline *tl = timeline_new(100);
	char *s;

	CHECK(tl != NULL);
	timeline_name(tl, 1, "uml0");
	timeline_name(tl, 2, "uml1");
	timeline_request(tl, 1, 0, 1000);
	timeline_run(tl, 1, NULL, 1000);
	timeline_wait(tl, 1, 1234567);
	timeline_request(tl, 2, 1234567, 2000000000);
	timeline_run(tl, 2, NULL, 2000000000);
	timeline_wait(tl, 2, 2000000001);
	s = render(tl);
	if (!s)
		return;
	CHECK(strncmp(s, "{\"displayTimeUnit\":\"ns\",\"traceEvents\":[", 39)
	      == 0);
	CHECK(strstr(s, "{\"name\":\"process_name\",\"ph\":\"M\",\"pid\":1,"
			"\"args\":{\"name\":\"ttfs\"}}"));
	CHECK(strstr(s, "{\"name\":\"thread_name\",\"ph\":\"M\",\"pid\":1,"
			"\"tid\":1,\"args\":{\"name\":\"uml0\"}}"));
	CHECK(strstr(s, "{\"name\":\"thread_name\",\"ph\":\"M\",\"pid\":1,"
			"\"tid\":2,\"args\":{\"name\":\"uml1\"}}"));
	CHECK(strstr(s, "{\"name\":\"request\",\"ph\":\"i\",\"pid\":1,"
			"\"tid\":1,\"ts\":0.000,\"s\":\"t\","
			"\"args\":{\"at_ns\":1000}}"));
	CHECK(strstr(s, "{\"name\":\"run\",\"ph\":\"X\",\"pid\":1,\"tid\":1,"
			"\"ts\":1.000,\"dur\":1233.567}"));
	CHECK(strstr(s, "{\"name\":\"request\",\"ph\":\"i\",\"pid\":1,"
			"\"tid\":2,\"ts\":1234.567,\"s\":\"t\","
			"\"args\":{\"at_ns\":2000000000}}"));
	CHECK(strstr(s, "{\"name\":\"run\",\"ph\":\"X\",\"pid\":1,\"tid\":2,"
			"\"ts\":2000000.000,\"dur\":0.001}"));
	CHECK_EQ(count(s, "\"ph\":\"X\""), 2);
	CHECK_EQ(count(s, "\"ph\":\"i\""), 2);
	CHECK_EQ(count(s, "\"thread_name\""), 2);
	free(s);
	timeline_free(tl);
}

/* A RUN's name becomes the track's, again when it changes; NULL keeps it;
 * a name longer than the label is cut alike either way. */
static void test_named_by_run(void)
{
	static const char longer[] =
		"a-name-of-forty-characters-for-the-track";
	struct timeline *tl = timeline_new(100);
	char *s;

	CHECK(tl != NULL);
	timeline_run(tl, 1, "client-1", 10);
	timeline_run(tl, 2, "before", 20);
	timeline_run(tl, 2, "after", 30);
	timeline_run(tl, 2, NULL, 40);
	timeline_run(tl, 3, longer, 50);
	timeline_run(tl, 3, longer, 60);
	timeline_wait(tl, 3, 70);
	s = render(tl);
	if (!s)
		return;
	CHECK(strstr(s, "\"tid\":1,\"args\":{\"name\":\"client-1\"}"));
	CHECK(strstr(s, "\"tid\":2,\"args\":{\"name\":\"after\"}"));
	CHECK(!strstr(s, "before"));
	CHECK(strstr(s, "\"tid\":3,\"args\":{\"name\":"
			"\"a-name-of-forty-characters-for-\"}"));
	free(s);
	timeline_free(tl);
}

static void test_empty(void)
{
	struct timeline *tl = timeline_new(4);
	char *s = render(tl);

	CHECK(s && strstr(s, "process_name"));
	CHECK(s && !strstr(s, "thread_name"));
	free(s);
	/* Named but without events: no lane yet. */
	timeline_name(tl, 3, "idle");
	s = render(tl);
	CHECK(s && !strstr(s, "thread_name"));
	free(s);
	timeline_free(tl);
}

static void test_bound(void)
{
	struct timeline *tl = timeline_new(3);
	char *s;
	uint64_t i;

	timeline_name(tl, 1, "old");
	timeline_name(tl, 2, "new");
	timeline_request(tl, 1, 10, 11);
	timeline_run(tl, 1, NULL, 20);
	timeline_wait(tl, 1, 30);
	for (i = 0; i < 3; i++) {
		timeline_run(tl, 2, NULL, 1000 * (i + 1));
		timeline_wait(tl, 2, 1000 * (i + 1) + 500);
	}
	s = render(tl);
	if (!s)
		return;
	CHECK_EQ(count(s, "\"ph\":\"X\""), 3);
	CHECK_EQ(count(s, "\"ph\":\"i\""), 0);
	CHECK(!strstr(s, "\"tid\":1,"));
	CHECK(!strstr(s, "\"old\""));
	CHECK(strstr(s, "\"ts\":1.000,\"dur\":0.500}"));
	CHECK(strstr(s, "\"ts\":3.000,\"dur\":0.500}"));
	free(s);

	/* Shrinking keeps the newest. */
	CHECK_EQ(timeline_set_max(tl, 0), -EINVAL);
	CHECK_EQ(timeline_set_max(tl, 1), 0);
	s = render(tl);
	CHECK(s && count(s, "\"ph\":\"X\"") == 1);
	CHECK(s && strstr(s, "\"ts\":3.000,\"dur\":0.500}"));
	free(s);
	/* Growing keeps what is there and makes room. */
	CHECK_EQ(timeline_set_max(tl, 10), 0);
	timeline_request(tl, 1, 4000, 5000);
	timeline_request(tl, 1, 4001, 5000);
	s = render(tl);
	CHECK(s && count(s, "\"ph\":\"X\"") == 1);
	CHECK(s && count(s, "\"ph\":\"i\"") == 2);
	CHECK(s && strstr(s, "\"args\":{\"name\":\"old\"}"));
	free(s);
	timeline_free(tl);
}

static void test_escape(void)
{
	struct timeline *tl = timeline_new(8);
	char *s;

	timeline_name(tl, 7, "a\"b\\c\nd\x01\xc3\xa9");
	timeline_request(tl, 7, 1, 2);
	timeline_request(tl, 8, 1, 2); /* never named */
	s = render(tl);
	CHECK(s && strstr(s,
		"\"args\":{\"name\":\"a\\\"b\\\\c\\u000ad\\u0001\\u00c3\\u00a9\"}"));
	CHECK(s && strstr(s, "\"tid\":8,\"args\":{\"name\":\"client-8\"}"));
	free(s);
	/* Renamed: the lane takes the new name. */
	timeline_name(tl, 7, "plain");
	s = render(tl);
	CHECK(s && strstr(s, "\"tid\":7,\"args\":{\"name\":\"plain\"}"));
	CHECK(s && !strstr(s, "a\\\"b"));
	free(s);
	timeline_free(tl);
}

static void test_open(void)
{
	struct timeline *tl = timeline_new(8);
	char *s;

	timeline_name(tl, 1, "a");
	timeline_run(tl, 1, NULL, 1000);
	s = render(tl);
	/* Nothing later seen yet: zero length, still there. */
	CHECK(s && strstr(s, "\"tid\":1,\"ts\":1.000,\"dur\":0.000,"
			     "\"args\":{\"open\":true}}"));
	CHECK(s && strstr(s, "\"tid\":1,\"args\":{\"name\":\"a\"}"));
	free(s);
	/* Another client's event moves the latest time on. */
	timeline_request(tl, 2, 5500, 6000);
	s = render(tl);
	CHECK(s && strstr(s, "\"tid\":1,\"ts\":1.000,\"dur\":4.500,"
			     "\"args\":{\"open\":true}}"));
	free(s);
	/* A jump of the clock, with no message, moves it on too. */
	timeline_advance(tl, 6500);
	s = render(tl);
	CHECK(s && strstr(s, "\"tid\":1,\"ts\":1.000,\"dur\":5.500,"
			     "\"args\":{\"open\":true}}"));
	free(s);
	/* RUN again without WAIT: the first slice ends there. */
	timeline_run(tl, 1, NULL, 7000);
	timeline_wait(tl, 1, 8000);
	timeline_wait(tl, 1, 9000); /* no open slice: nothing */
	s = render(tl);
	CHECK(s && strstr(s, "\"tid\":1,\"ts\":1.000,\"dur\":6.000}"));
	CHECK(s && strstr(s, "\"tid\":1,\"ts\":7.000,\"dur\":1.000}"));
	CHECK(s && !strstr(s, "\"open\""));
	CHECK(s && count(s, "\"ph\":\"X\"") == 2);
	free(s);
	timeline_free(tl);
}

static void test_gone(void)
{
	struct timeline *tl = timeline_new(2);
	char *s;

	timeline_name(tl, 1, "leaver");
	timeline_run(tl, 1, NULL, 100);
	timeline_gone(tl, 1, 2100);
	timeline_gone(tl, 9, 2200); /* unknown: nothing */
	s = render(tl);
	CHECK(s && strstr(s, "\"tid\":1,\"ts\":0.100,\"dur\":2.000}"));
	CHECK(s && strstr(s, "\"name\":\"leaver\""));
	CHECK(s && !strstr(s, "\"open\""));
	CHECK(s && !strstr(s, "\"tid\":9"));
	free(s);
	/* Its slice pushed out: its lane goes with it. */
	timeline_request(tl, 2, 3000, 4000);
	timeline_request(tl, 2, 3001, 4000);
	s = render(tl);
	CHECK(s && !strstr(s, "leaver"));
	CHECK(s && !strstr(s, "\"tid\":1,"));
	free(s);
	/* Gone with nothing kept: forgotten at once. */
	timeline_name(tl, 3, "brief");
	timeline_gone(tl, 3, 5000);
	timeline_run(tl, 4, NULL, 6000);
	s = render(tl);
	CHECK(s && !strstr(s, "brief"));
	free(s);
	timeline_free(tl);
}

/* Many clients coming and going through a small ring: entries are
 * dropped (checked by ASan/valgrind runs) and rendering stays valid. */
static void test_churn(void)
{
	struct timeline *tl = timeline_new(5);
	char *s;
	uint64_t i;

	for (i = 0; i < 1000; i++) {
		timeline_name(tl, i, "c");
		timeline_request(tl, i, 10 * i, 10 * i + 5);
		timeline_run(tl, i, NULL, 10 * i + 5);
		if (i % 2)
			timeline_wait(tl, i, 10 * i + 8);
		timeline_gone(tl, i, 10 * i + 9);
		if (i % 97 == 0)
			free(render(tl));
	}
	s = render(tl);
	CHECK(s && count(s, "\"thread_name\"") <= 5);
	CHECK(s && count(s, "\"ph\":\"X\"") + count(s, "\"ph\":\"i\"") == 5);
	free(s);
	timeline_free(tl);
}

TEST_LIST(T(test_checker), T(test_events), T(test_named_by_run),
	  T(test_empty), T(test_bound),
	  T(test_escape), T(test_open), T(test_gone), T(test_churn))
