"""Kind ``schema_org``: the kind (``connector``), its Scrapy crawler (``crawl``), the extraction
of shops and offers from a page (``extract``, ``hours``, ``values``)."""
