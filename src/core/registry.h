/*
 * registry.h — a pool's published objects and host functions (registry.c).
 * The mc_pool_* functions of manycore.h check the pool and delegate here.
 */
#ifndef MC_REGISTRY_H
#define MC_REGISTRY_H

#include <pthread.h>
#include <stddef.h>

#include "shared.h"

typedef struct mc_named_object {
    char *name;
    mc_shared *obj;
} mc_named_object;

typedef struct mc_host_function {
    char *name;
    mc_host_fn fn;
    void *ctx;
} mc_host_function;

typedef struct mc_registry {
    pthread_mutex_t lock; /* guards both tables */
    mc_named_object *objects;
    size_t nobjects;
    mc_host_function *hosts;
    size_t nhosts;
} mc_registry;

void mc_registry_init(mc_registry *r);
/* Drops every reference and frees the tables. */
void mc_registry_clear(mc_registry *r);

int mc_registry_publish(mc_registry *r, const char *name, mc_shared *obj);
int mc_registry_unpublish(mc_registry *r, const char *name);
/* A new reference to the object published under name, or MC_ENOTFOUND. */
int mc_registry_lookup(mc_registry *r, const char *name, mc_shared **out);
/* The names, as a malloc'd NULL-terminated array of malloc'd strings. */
int mc_registry_names(mc_registry *r, char ***out);
int mc_registry_register(mc_registry *r, const char *name, mc_host_fn fn, void *ctx);
int mc_registry_host_function(mc_registry *r, const char *name, mc_host_fn *fn, void **ctx);

#endif /* MC_REGISTRY_H */
