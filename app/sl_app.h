/* Process set-up and teardown (main lcore only). */
#ifndef SL_APP_H
#define SL_APP_H

#include <stddef.h>

#include "sl_control.h"

/* Creates the Kafka producer, ports and workers, announces our addresses
 * and launches the workers. On failure returns -errno with a message in
 * err; sl_app_stop() then releases whatever was created. */
int sl_app_start(struct sl_app *app, char *err, size_t errlen);

/* Stops workers (if running), waits for them and frees everything in the
 * reverse order of set-up. */
void sl_app_stop(struct sl_app *app);

#endif
