from whimbrel.migration import create, index


# On a large, busy table, build the index without blocking writes: pass
# concurrently=True and set `disable_ddl_transaction = True` in this module.
def change():
    create(index("posts", ["title", "slug"]))
