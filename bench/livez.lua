-- GET /livez: the HTTP front alone, no database.
wrk.method = "GET"
wrk.path = "/livez"
