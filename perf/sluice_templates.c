/* sluice-templates: the worker's template miner over lines on stdin.
 *
 *   sluice-templates [-s PCT] [-m MAX] [-p PASSES] < lines
 *
 * For each line, in order, prints "<index> <id>": the template the line
 * was grouped into (-1 when the table was full) and the template id the
 * record carried when it was learned. With -p 2 the lines are learned
 * twice and the second pass is printed: a warm table, as on a node that
 * has run for a while. Then one "T <index> <id> <text>"
 * line per template, with its final text. perf/template_accuracy.py turns
 * this into grouping accuracy. The same code as the workers run
 * (workers/sl_template.c), with the same defaults.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sl_template.h"

int main(int argc, char **argv)
{
	unsigned pct = 80, max = 4096, passes = 1;
	int opt;

	while ((opt = getopt(argc, argv, "s:m:p:")) != -1) {
		if (opt == 's')
			pct = (unsigned)atoi(optarg);
		else if (opt == 'm')
			max = (unsigned)atoi(optarg);
		else if (opt == 'p')
			passes = (unsigned)atoi(optarg);
		else {
			fprintf(stderr, "usage: sluice-templates [-s PCT] [-m MAX] [-p PASSES] < lines\n");
			return 2;
		}
	}
	void *mem = aligned_alloc(64, (sl_tpl_table_size(max) + 63) & ~(size_t)63);

	if (mem == NULL)
		return 1;
	memset(mem, 0, sl_tpl_table_size(max));
	struct sl_tpl_table *t = sl_tpl_table_init(mem, max, pct);

	if (t == NULL) {
		fprintf(stderr, "sluice-templates: bad -s or -m\n");
		return 2;
	}
	char *line = NULL, **lines = NULL;
	size_t cap = 0, n_lines = 0, lines_cap = 0;
	ssize_t n;

	while ((n = getline(&line, &cap, stdin)) >= 0) {
		while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			line[--n] = '\0';
		if (n_lines == lines_cap) {
			lines_cap = lines_cap ? 2 * lines_cap : 1024;
			lines = realloc(lines, lines_cap * sizeof(*lines));
			if (lines == NULL)
				return 1;
		}
		lines[n_lines++] = strdup(line);
	}
	for (unsigned pass = 1; pass <= passes; pass++) {
		for (size_t i = 0; i < n_lines; i++) {
			int32_t idx;
			uint64_t id = sl_tpl_learn(t, lines[i], (uint32_t)strlen(lines[i]), &idx);

			if (pass == passes)
				printf("%d %016" PRIx64 "\n", idx, id);
		}
	}
	for (size_t i = 0; i < n_lines; i++)
		free(lines[i]);
	free(lines);
	struct sl_tpl_stats st;

	sl_tpl_get_stats(t, &st);
	for (uint32_t i = 0; i < st.templates; i++) {
		uint32_t len;
		const char *s = sl_tpl_text(t, (int32_t)i, &len);

		printf("T %u %016" PRIx64 " %.*s\n", i, sl_tpl_id(t, (int32_t)i), (int)len, s);
	}
	free(line);
	free(mem);
	return 0;
}
