"""Imported once by the extraction workers' fork server, so that every worker starts warm.

The crawl's extraction workers fork from a server process (multiprocessing's "forkserver",
started fresh: never a fork of the crawl process, whose Twisted threads make forking
unsafe) that has imported the page work and loaded langdetect's language profiles. Each
spawned worker used to spend about a second of CPU on that by itself.
"""

import gc

from analysis.page_work import warm_up  # trafilatura, lxml and the stages

warm_up()
gc.freeze()  # what is loaded here stays: collections in the workers need not walk it
