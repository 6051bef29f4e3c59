/*
 * registry.c — a pool's names: the shared objects it publishes and the
 * host functions it registers, under one mutex.
 *
 * Lookups are linear: a pool has a handful of names, and a worker looks a
 * name up once per manycore.shared[...] or host call. A published object
 * holds one reference, dropped outside the lock (it may run a release
 * callback).
 */
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "registry.h"

void mc_registry_init(mc_registry *r)
{
    memset(r, 0, sizeof *r);
    pthread_mutex_init(&r->lock, NULL);
}

void mc_registry_clear(mc_registry *r)
{
    for (size_t i = 0; i < r->nobjects; i++) {
        free(r->objects[i].name);
        mc_shared_decref(r->objects[i].obj);
    }
    free(r->objects);
    for (size_t i = 0; i < r->nhosts; i++)
        free(r->hosts[i].name);
    free(r->hosts);
    pthread_mutex_destroy(&r->lock);
}

static int check_name(const char *name, const char *what)
{
    size_t n = name ? strlen(name) : 0;
    if (n == 0 || n > 200)
        return mc_fail(MC_EINVAL, "%s name must be 1 to 200 bytes", what);
    return MC_OK;
}

int mc_registry_publish(mc_registry *r, const char *name, mc_shared *obj)
{
    if (!mc_shared_valid(obj, 0))
        return mc_fail(MC_EINVAL, "mc_pool_publish: not a shared object (NULL or freed handle)");
    int rc = check_name(name, "a published");
    if (rc != MC_OK)
        return rc;
    char *copy = strdup(name);
    if (!copy)
        return mc_fail(MC_ENOMEM, "out of memory");
    mc_shared *old = NULL;
    pthread_mutex_lock(&r->lock);
    size_t i = 0;
    while (i < r->nobjects && strcmp(r->objects[i].name, name) != 0)
        i++;
    if (i < r->nobjects) {
        old = r->objects[i].obj;
        free(r->objects[i].name);
    } else {
        mc_named_object *grown = realloc(r->objects, (r->nobjects + 1) * sizeof *grown);
        if (!grown) {
            pthread_mutex_unlock(&r->lock);
            free(copy);
            return mc_fail(MC_ENOMEM, "out of memory");
        }
        r->objects = grown;
        r->nobjects++;
    }
    r->objects[i].name = copy;
    r->objects[i].obj = mc_shared_incref(obj);
    pthread_mutex_unlock(&r->lock);
    mc_shared_decref(old); /* outside the lock: it may run a release callback */
    return MC_OK;
}

int mc_registry_unpublish(mc_registry *r, const char *name)
{
    if (!name)
        return mc_fail(MC_EINVAL, "mc_pool_unpublish: name is NULL");
    mc_shared *old = NULL;
    pthread_mutex_lock(&r->lock);
    for (size_t i = 0; i < r->nobjects; i++) {
        if (strcmp(r->objects[i].name, name) == 0) {
            old = r->objects[i].obj;
            free(r->objects[i].name);
            r->objects[i] = r->objects[--r->nobjects];
            break;
        }
    }
    pthread_mutex_unlock(&r->lock);
    if (!old)
        return mc_fail(MC_ENOTFOUND, "nothing is published under '%.200s'", name);
    mc_shared_decref(old);
    return MC_OK;
}

int mc_registry_lookup(mc_registry *r, const char *name, mc_shared **out)
{
    mc_shared *found = NULL;
    pthread_mutex_lock(&r->lock);
    for (size_t i = 0; i < r->nobjects && !found; i++)
        if (strcmp(r->objects[i].name, name) == 0)
            found = mc_shared_incref(r->objects[i].obj);
    pthread_mutex_unlock(&r->lock);
    if (!found)
        return mc_fail(MC_ENOTFOUND, "nothing is published under '%.200s'", name);
    *out = found;
    return MC_OK;
}

int mc_registry_names(mc_registry *r, char ***out)
{
    pthread_mutex_lock(&r->lock);
    char **names = calloc(r->nobjects + 1, sizeof *names);
    int ok = names != NULL;
    for (size_t i = 0; ok && i < r->nobjects; i++)
        ok = (names[i] = strdup(r->objects[i].name)) != NULL;
    pthread_mutex_unlock(&r->lock);
    if (!ok) {
        for (char **p = names; p && *p; p++)
            free(*p);
        free(names);
        return mc_fail(MC_ENOMEM, "out of memory");
    }
    *out = names;
    return MC_OK;
}

static int is_identifier(const char *s)
{
    if (!s || !*s || (*s >= '0' && *s <= '9'))
        return 0;
    for (; *s; s++)
        if (!(*s == '_' || (*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9')))
            return 0;
    return 1;
}

int mc_registry_register(mc_registry *r, const char *name, mc_host_fn fn, void *ctx)
{
    if (!fn)
        return mc_fail(MC_EINVAL, "mc_pool_register: the function is NULL");
    if (!is_identifier(name) || strlen(name) > 200)
        return mc_fail(MC_EINVAL, "host function name '%.200s' is not a Python identifier", name ? name : "(null)");
    char *copy = strdup(name);
    if (!copy)
        return mc_fail(MC_ENOMEM, "out of memory");
    pthread_mutex_lock(&r->lock);
    size_t i = 0;
    while (i < r->nhosts && strcmp(r->hosts[i].name, name) != 0)
        i++;
    if (i == r->nhosts) {
        mc_host_function *grown = realloc(r->hosts, (r->nhosts + 1) * sizeof *grown);
        if (!grown) {
            pthread_mutex_unlock(&r->lock);
            free(copy);
            return mc_fail(MC_ENOMEM, "out of memory");
        }
        r->hosts = grown;
        r->nhosts++;
    } else {
        free(r->hosts[i].name);
    }
    r->hosts[i] = (mc_host_function){copy, fn, ctx};
    pthread_mutex_unlock(&r->lock);
    return MC_OK;
}

int mc_registry_host_function(mc_registry *r, const char *name, mc_host_fn *fn, void **ctx)
{
    int found = 0;
    pthread_mutex_lock(&r->lock);
    for (size_t i = 0; i < r->nhosts && !found; i++) {
        if (strcmp(r->hosts[i].name, name) == 0) {
            *fn = r->hosts[i].fn;
            *ctx = r->hosts[i].ctx;
            found = 1;
        }
    }
    pthread_mutex_unlock(&r->lock);
    return found ? MC_OK : mc_fail(MC_ENOTFOUND, "no host function '%.200s' is registered", name);
}
