-- A database at schema version 1 (vigil logd before migration 2), as pg_dump
-- wrote it after one session of tests/data/store/fleet.jsonl (10 records,
-- host 127.0.0.1, --store-name v1-logd): tests/test-store-pg.sh migrates it.
--
-- PostgreSQL database dump
--



SET statement_timeout = 0;
SET lock_timeout = 0;
SET idle_in_transaction_session_timeout = 0;
SET client_encoding = 'UTF8';
SET standard_conforming_strings = on;
SELECT pg_catalog.set_config('search_path', '', false);
SET check_function_bodies = false;
SET xmloption = content;
SET client_min_messages = warning;
SET row_security = off;

--
-- Name: vigil_jsonb(text); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.vigil_jsonb(t text) RETURNS jsonb
    LANGUAGE plpgsql IMMUTABLE
    AS $$ BEGIN RETURN t::jsonb; EXCEPTION WHEN others THEN RETURN to_jsonb(t); END $$;


--
-- Name: vigil_partition(date); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.vigil_partition(day date) RETURNS void
    LANGUAGE plpgsql
    AS $$ DECLARE n text := 'events_' || to_char(day, 'YYYYMMDD'); BEGIN  IF to_regclass(n) IS NULL THEN   PERFORM pg_advisory_xact_lock(74293802);   IF to_regclass(n) IS NULL THEN    EXECUTE format('CREATE TABLE %I PARTITION OF events FOR VALUES FROM (%L) TO (%L)', n, day::timestamp AT TIME ZONE 'UTC',     (day + 1)::timestamp AT TIME ZONE 'UTC');   END IF;  END IF; END $$;


SET default_tablespace = '';

SET default_table_access_method = heap;

--
-- Name: detections; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.detections (
    host text NOT NULL,
    session text NOT NULL,
    rec bigint NOT NULL,
    received timestamp with time zone NOT NULL,
    ts bigint,
    disk text,
    signature text,
    action text,
    request_ts bigint,
    json jsonb NOT NULL
);


--
-- Name: events; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.events (
    host text NOT NULL,
    session text NOT NULL,
    rec bigint NOT NULL,
    received timestamp with time zone NOT NULL,
    ts bigint,
    pid integer,
    tid integer,
    type text,
    name text,
    ret bigint,
    json jsonb NOT NULL
)
PARTITION BY RANGE (received);


--
-- Name: events_20261204; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.events_20261204 (
    host text NOT NULL,
    session text NOT NULL,
    rec bigint NOT NULL,
    received timestamp with time zone NOT NULL,
    ts bigint,
    pid integer,
    tid integer,
    type text,
    name text,
    ret bigint,
    json jsonb NOT NULL
);


--
-- Name: processes; Type: VIEW; Schema: public; Owner: -
--

CREATE VIEW public.processes AS
 WITH spawn AS (
         SELECT DISTINCT ON (events.host, events.session, events.ret) events.host,
            events.session,
            (events.ret)::integer AS pid,
            events.pid AS parent,
            events.ts AS started
           FROM public.events
          WHERE ((events.name = ANY (ARRAY['clone'::text, 'clone3'::text, 'fork'::text, 'vfork'::text])) AND (events.ret > 0) AND (COALESCE(((events.json -> 'decoded'::text) ->> 0), ''::text) !~~ '%CLONE_THREAD%'::text))
          ORDER BY events.host, events.session, events.ret, events.ts
        ), exec AS (
         SELECT DISTINCT ON (events.host, events.session, events.pid) events.host,
            events.session,
            events.pid,
            events.ts AS exec_ts,
            ((events.json -> 'decoded'::text) ->> 0) AS exe,
            ((events.json -> 'decoded'::text) -> 1) AS argv,
            (events.json ->> 'comm'::text) AS comm
           FROM public.events
          WHERE ((events.name = ANY (ARRAY['execve'::text, 'execveat'::text])) AND (events.ret = 0))
          ORDER BY events.host, events.session, events.pid, events.ts DESC
        ), ended AS (
         SELECT DISTINCT ON (events.host, events.session, events.pid) events.host,
            events.session,
            events.pid,
            events.ts AS exited,
            ((events.json -> 'decoded'::text) ->> 0) AS exit_code
           FROM public.events
          WHERE (events.name = 'exit_group'::text)
          ORDER BY events.host, events.session, events.pid, events.ts DESC
        ), k AS (
         SELECT spawn.host,
            spawn.session,
            spawn.pid
           FROM spawn
        UNION
         SELECT exec.host,
            exec.session,
            exec.pid
           FROM exec
        UNION
         SELECT ended.host,
            ended.session,
            ended.pid
           FROM ended
        )
 SELECT k.host,
    k.session,
    k.pid,
    s.parent AS ppid,
    s.started,
    x.exec_ts,
    x.exe,
    x.argv,
    x.comm,
    e.exited,
    e.exit_code
   FROM (((k
     LEFT JOIN spawn s USING (host, session, pid))
     LEFT JOIN exec x USING (host, session, pid))
     LEFT JOIN ended e USING (host, session, pid));


--
-- Name: schema_version; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.schema_version (
    version integer NOT NULL,
    applied timestamp with time zone DEFAULT now() NOT NULL
);


--
-- Name: sessions; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.sessions (
    host text NOT NULL,
    session text NOT NULL,
    logd text NOT NULL,
    first_received timestamp with time zone NOT NULL
);


--
-- Name: events_20261204; Type: TABLE ATTACH; Schema: public; Owner: -
--

ALTER TABLE ONLY public.events ATTACH PARTITION public.events_20261204 FOR VALUES FROM ('2026-12-04 00:00:00+00') TO ('2026-12-05 00:00:00+00');


--
-- Data for Name: detections; Type: TABLE DATA; Schema: public; Owner: -
--

COPY public.detections (host, session, rec, received, ts, disk, signature, action, request_ts, json) FROM stdin;
127.0.0.1	de024f382fe16789	7	2026-12-04 17:16:31.199585+00	5004000000	vda	Vigil.Test.One	denied	5003900000	{"ts": 5004000000, "disk": "vda", "type": "detection", "write": "denied", "action": "denied", "length": 24, "offset": 4098, "policy": "deny", "request": "write", "writers": [{"pid": 301, "tid": 302, "comm": "dropper", "syscall": "write"}], "signature": "Vigil.Test.One", "request_ts": 5003900000, "request_length": 28, "request_offset": 4096}
\.


--
-- Data for Name: events_20261204; Type: TABLE DATA; Schema: public; Owner: -
--

COPY public.events_20261204 (host, session, rec, received, ts, pid, tid, type, name, ret, json) FROM stdin;
127.0.0.1	de024f382fe16789	0	2026-12-04 17:16:31.198775+00	4000000000	1	1	syscall	clone	300	{"ip": "0x7f3a8c1e4b1d", "nr": 56, "ts": 4000000000, "abi": "x86_64", "pid": 1, "ret": 300, "tid": 1, "args": [18874385, 0, 0, 140737488346904, 0], "comm": "init", "name": "clone", "ppid": 0, "type": "syscall", "vcpu": 0, "state": "done", "decoded": ["CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD", "NULL", null, "0x7ffff7d8aa10", "0"], "ts_exit": 4000100000}
127.0.0.1	de024f382fe16789	1	2026-12-04 17:16:31.199571+00	4100000000	300	300	syscall	execve	0	{"ip": "0x7f3a8c1e4b1d", "nr": 59, "ts": 4100000000, "abi": "x86_64", "pid": 300, "ret": 0, "tid": 300, "args": [94000000, 94000100, 94000200], "comm": "init", "name": "execve", "ppid": 1, "type": "syscall", "vcpu": 0, "state": "done", "decoded": ["/bin/sh", ["sh", "-c", "dropper --quiet"], "0x5597a0"], "ts_exit": 4100900000}
127.0.0.1	de024f382fe16789	2	2026-12-04 17:16:31.199572+00	5000000000	300	300	syscall	clone	301	{"ip": "0x7f3a8c1e4b1d", "nr": 56, "ts": 5000000000, "abi": "x86_64", "pid": 300, "ret": 301, "tid": 300, "args": [18874385, 0, 0, 140737488346904, 0], "comm": "sh", "name": "clone", "ppid": 1, "type": "syscall", "vcpu": 0, "state": "done", "decoded": ["CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD", "NULL", null, "0x7ffff7d8aa10", "0"], "ts_exit": 5000100000}
127.0.0.1	de024f382fe16789	3	2026-12-04 17:16:31.199573+00	5000200000	301	301	syscall	execve	0	{"ip": "0x7f3a8c1e4b1d", "nr": 59, "ts": 5000200000, "abi": "x86_64", "pid": 301, "ret": 0, "tid": 301, "args": [94000000, 94000100, 94000200], "comm": "sh", "name": "execve", "ppid": 300, "type": "syscall", "vcpu": 0, "state": "done", "decoded": ["/usr/bin/dropper", ["dropper", "--quiet"], "0x5597a0"], "ts_exit": 5000900000}
127.0.0.1	de024f382fe16789	4	2026-12-04 17:16:31.199584+00	5001000000	301	301	syscall	clone	302	{"ip": "0x7f3a8c1e4b1d", "nr": 56, "ts": 5001000000, "abi": "x86_64", "pid": 301, "ret": 302, "tid": 301, "args": [4001536, 0, 0, 0, 0], "comm": "dropper", "name": "clone", "ppid": 300, "type": "syscall", "vcpu": 0, "state": "done", "decoded": ["CLONE_VM|CLONE_FS|CLONE_FILES|CLONE_SIGHAND|CLONE_THREAD|CLONE_SYSVSEM", "NULL", null, "0", "0"], "ts_exit": 5001100000}
127.0.0.1	de024f382fe16789	5	2026-12-04 17:16:31.199585+00	5002000000	301	301	syscall	openat	3	{"ip": "0x7f3a8c1e4b1d", "nr": 257, "ts": 5002000000, "abi": "x86_64", "pid": 301, "ret": 3, "tid": 301, "args": [18446744073709551516, 94000300, 577, 420], "comm": "dropper", "name": "openat", "ppid": 300, "type": "syscall", "vcpu": 0, "state": "done", "decoded": ["AT_FDCWD", "/data/payload.bin", "O_WRONLY|O_CREAT|O_TRUNC", "0644"], "ts_exit": 5002100000}
127.0.0.1	de024f382fe16789	6	2026-12-04 17:16:31.199585+00	5003000000	301	302	syscall	write	28	{"ip": "0x7f3a8c1e4b1d", "nr": 1, "ts": 5003000000, "abi": "x86_64", "pid": 301, "ret": 28, "tid": 302, "args": [3, 94000400, 28], "comm": "dropper", "name": "write", "ppid": 300, "type": "syscall", "vcpu": 0, "state": "done", "decoded": [3, "X5O!P%@AP[4\\\\PZX54(P^)7CC)7}$", 28], "ts_exit": 5003100000}
127.0.0.1	de024f382fe16789	7	2026-12-04 17:16:31.199585+00	5004000000	\N	\N	detection	\N	\N	{"ts": 5004000000, "disk": "vda", "type": "detection", "write": "denied", "action": "denied", "length": 24, "offset": 4098, "policy": "deny", "request": "write", "writers": [{"pid": 301, "tid": 302, "comm": "dropper", "syscall": "write"}], "signature": "Vigil.Test.One", "request_ts": 5003900000, "request_length": 28, "request_offset": 4096}
127.0.0.1	de024f382fe16789	8	2026-12-04 17:16:31.19959+00	5005000000	301	301	syscall	exit_group	\N	{"ip": "0x7f3a8c1e4b1d", "nr": 231, "ts": 5005000000, "abi": "x86_64", "pid": 301, "ret": null, "tid": 301, "args": [0], "comm": "dropper", "name": "exit_group", "ppid": 300, "type": "syscall", "vcpu": 0, "state": "noreturn", "decoded": [0], "ts_exit": null}
127.0.0.1	de024f382fe16789	9	2026-12-04 17:16:31.199591+00	5006000000	300	300	syscall	wait4	301	{"ip": "0x7f3a8c1e4b1d", "nr": 61, "ts": 5006000000, "abi": "x86_64", "pid": 300, "ret": 301, "tid": 300, "args": [301, 0, 0, 0], "comm": "sh", "name": "wait4", "ppid": 1, "type": "syscall", "vcpu": 0, "state": "done", "decoded": [301, "NULL", "0", "NULL"], "ts_exit": 5006100000}
\.


--
-- Data for Name: schema_version; Type: TABLE DATA; Schema: public; Owner: -
--

COPY public.schema_version (version, applied) FROM stdin;
1	2026-12-04 17:16:30.067214+00
\.


--
-- Data for Name: sessions; Type: TABLE DATA; Schema: public; Owner: -
--

COPY public.sessions (host, session, logd, first_received) FROM stdin;
127.0.0.1	de024f382fe16789	v1-logd	2026-12-04 17:16:31.198775+00
\.


--
-- Name: detections detections_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.detections
    ADD CONSTRAINT detections_pkey PRIMARY KEY (host, session, rec);


--
-- Name: events events_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.events
    ADD CONSTRAINT events_pkey PRIMARY KEY (host, session, rec, received);


--
-- Name: events_20261204 events_20261204_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.events_20261204
    ADD CONSTRAINT events_20261204_pkey PRIMARY KEY (host, session, rec, received);


--
-- Name: sessions sessions_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.sessions
    ADD CONSTRAINT sessions_pkey PRIMARY KEY (host, session);


--
-- Name: detections_signature; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX detections_signature ON public.detections USING btree (signature);


--
-- Name: events_name; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX events_name ON ONLY public.events USING btree (name);


--
-- Name: events_20261204_name_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX events_20261204_name_idx ON public.events_20261204 USING btree (name);


--
-- Name: events_pid; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX events_pid ON ONLY public.events USING btree (pid);


--
-- Name: events_20261204_pid_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX events_20261204_pid_idx ON public.events_20261204 USING btree (pid);


--
-- Name: events_received; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX events_received ON ONLY public.events USING btree (received);


--
-- Name: events_20261204_received_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX events_20261204_received_idx ON public.events_20261204 USING btree (received);


--
-- Name: events_session; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX events_session ON ONLY public.events USING btree (session);


--
-- Name: events_20261204_session_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX events_20261204_session_idx ON public.events_20261204 USING btree (session);


--
-- Name: events_20261204_name_idx; Type: INDEX ATTACH; Schema: public; Owner: -
--

ALTER INDEX public.events_name ATTACH PARTITION public.events_20261204_name_idx;


--
-- Name: events_20261204_pid_idx; Type: INDEX ATTACH; Schema: public; Owner: -
--

ALTER INDEX public.events_pid ATTACH PARTITION public.events_20261204_pid_idx;


--
-- Name: events_20261204_pkey; Type: INDEX ATTACH; Schema: public; Owner: -
--

ALTER INDEX public.events_pkey ATTACH PARTITION public.events_20261204_pkey;


--
-- Name: events_20261204_received_idx; Type: INDEX ATTACH; Schema: public; Owner: -
--

ALTER INDEX public.events_received ATTACH PARTITION public.events_20261204_received_idx;


--
-- Name: events_20261204_session_idx; Type: INDEX ATTACH; Schema: public; Owner: -
--

ALTER INDEX public.events_session ATTACH PARTITION public.events_20261204_session_idx;


--
-- PostgreSQL database dump complete
--


