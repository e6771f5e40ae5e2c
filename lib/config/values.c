/*
 * Values the way lwsws takes them: numbers may be JSON numbers or
 * strings of digits ("port": "7681"), booleans may be true/false, 0/1 or
 * "on"/"off", "yes"/"no", "true"/"false", "1"/"0". Anything else is an
 * error naming what was expected, never a silent zero.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config/private.h"

static const char *type_name(json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        return "an object";
    case JSON_ARRAY:
        return "an array";
    case JSON_STRING:
        return "a string";
    case JSON_INTEGER:
    case JSON_REAL:
        return "a number";
    case JSON_TRUE:
    case JSON_FALSE:
        return "a boolean";
    default:
        return "null";
    }
}

int kite__cfg_string(kite__cfg_t *cfg, json_t *v, const kite__cfg_file_t *f, const char *path,
                     const char **out)
{
    char num[32];

    if (json_is_string(v)) {
        if (strlen(json_string_value(v)) != json_string_length(v))
            return kite__cfg_error(cfg, f, path, "string contains a NUL byte");
        *out = kite__cfg_strdup(cfg, json_string_value(v));
    } else if (json_is_integer(v)) {
        snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        *out = kite__cfg_strdup(cfg, num);
    } else {
        return kite__cfg_error(cfg, f, path, "expected a string, got %s", type_name(v));
    }
    return *out ? 0 : KITE_ENOMEM;
}

int kite__cfg_uint(kite__cfg_t *cfg, json_t *v, const kite__cfg_file_t *f, const char *path,
                   unsigned long max, unsigned long *out)
{
    unsigned long long n;

    if (json_is_integer(v)) {
        if (json_integer_value(v) < 0)
            return kite__cfg_error(cfg, f, path, "must not be negative");
        n = (unsigned long long)json_integer_value(v);
    } else if (json_is_string(v)) {
        const char *s = json_string_value(v);
        char *end;
        if (!*s || *s < '0' || *s > '9')
            return kite__cfg_error(cfg, f, path, "expected a number, got \"%s\"", s);
        errno = 0;
        n = strtoull(s, &end, 10);
        if (*end || errno)
            return kite__cfg_error(cfg, f, path, "expected a number, got \"%s\"", s);
    } else {
        return kite__cfg_error(cfg, f, path, "expected a number, got %s", type_name(v));
    }
    if (n > max)
        return kite__cfg_error(cfg, f, path, "%llu is out of range (0-%lu)", n, max);
    *out = (unsigned long)n;
    return 0;
}

int kite__cfg_bool(kite__cfg_t *cfg, json_t *v, const kite__cfg_file_t *f, const char *path,
                   int *out)
{
    static const char *const yes[] = {"1", "on", "yes", "true"}, *const no[] = {"0", "off", "no",
                                                                                "false"};
    size_t i;

    if (json_is_boolean(v)) {
        *out = json_is_true(v);
        return 0;
    }
    if (json_is_integer(v) && (json_integer_value(v) == 0 || json_integer_value(v) == 1)) {
        *out = json_integer_value(v) == 1;
        return 0;
    }
    if (json_is_string(v))
        for (i = 0; i < 4; i++) {
            if (!strcasecmp(json_string_value(v), yes[i]))
                return *out = 1, 0;
            if (!strcasecmp(json_string_value(v), no[i]))
                return *out = 0, 0;
        }
    if (json_is_string(v))
        return kite__cfg_error(cfg, f, path, "expected a boolean (on/off, yes/no, 1/0), got \"%s\"",
                               json_string_value(v));
    return kite__cfg_error(cfg, f, path, "expected a boolean, got %s", type_name(v));
}

static int pvo_object(kite__cfg_t *cfg, json_t *o, const kite__cfg_file_t *f, const char *path,
                      kite_pvo_t ***tail)
{
    const char *key;
    json_t *v;
    int r = 0;

    json_object_foreach(o, key, v)
    {
        char kp[KITE__CFG_PATH_MAX];
        kite_pvo_t *p = kite__cfg_alloc(cfg, sizeof(*p));
        kite__cfg_path(kp, "%s.%s", path, key);
        if (!p || !(p->name = kite__cfg_strdup(cfg, key)))
            return KITE_ENOMEM;
        if (kite__cfg_string(cfg, v, f, kp, &p->value) < 0) {
            r = KITE_EINVAL;
            continue;
        }
        **tail = p;
        *tail = (kite_pvo_t **)&p->next;
    }
    return r;
}

int kite__cfg_pvo_list(kite__cfg_t *cfg, json_t *v, const kite__cfg_file_t *f, const char *path,
                       const kite_pvo_t **out)
{
    kite_pvo_t *head = NULL, **tail = &head;
    size_t i;
    json_t *e;
    int r = 0;

    if (json_is_object(v)) {
        r = pvo_object(cfg, v, f, path, &tail);
    } else if (json_is_array(v)) {
        json_array_foreach(v, i, e)
        {
            char ep[KITE__CFG_PATH_MAX];
            kite__cfg_path(ep, "%s[%zu]", path, i);
            if (!json_is_object(e))
                r = kite__cfg_error(cfg, f, ep, "expected an object of name: value");
            else if (pvo_object(cfg, e, f, ep, &tail) < 0)
                r = KITE_EINVAL;
        }
    } else {
        return kite__cfg_error(cfg, f, path, "expected an object of name: value, got %s",
                               type_name(v));
    }
    *out = head;
    return r;
}
