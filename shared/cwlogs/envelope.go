package cwlogs

import "strconv"

// where tracks the position in the envelope for error messages; it costs
// nothing until an error is built.
type where struct {
	top string // top-level key, "" outside known keys
	idx int    // element of an array, -1 when none
	sub string // key inside a log event
}

func (w *where) path() string {
	if w.top == "" {
		return ""
	}
	p := w.top
	if w.idx >= 0 {
		p += "[" + strconv.Itoa(w.idx) + "]"
	}
	if w.sub != "" {
		p += "." + w.sub
	}
	return p
}

// reset empties the batch, keeping every buffer for reuse.
func (d *Decoder) reset() {
	d.strs = d.strs[:0]
	d.arena = d.arena[:0]
	d.bs = batchStrings{}
	d.filters = d.filters[:0]
	d.meta = d.meta[:0]
	d.pairs = d.pairs[:0]
	d.batch.LogEvents = d.batch.LogEvents[:0]
}

// parse scans a decompressed envelope into d's buffers; finish then builds
// d.batch from them.
func (d *Decoder) parse(js []byte) error {
	d.reset()
	s := scanner{buf: js}
	w := where{idx: -1}
	if err := d.parseBatch(&s, &w); err != nil {
		return d.envelopeError(&w, s.pos, err)
	}
	if d.bs.messageType.off == d.bs.messageType.end {
		return d.envelopeError(&where{idx: -1}, -1, errNoType)
	}
	return nil
}

func (d *Decoder) envelopeError(w *where, offset int, err error) error {
	return &EnvelopeError{
		LogGroup:  string(d.strs[d.bs.logGroup.off:d.bs.logGroup.end]),
		LogStream: string(d.strs[d.bs.logStream.off:d.bs.logStream.end]),
		Path:      w.path(),
		Offset:    offset,
		Err:       err,
	}
}

func (d *Decoder) parseBatch(s *scanner, w *where) error {
	empty, err := s.open('{', errWantObject)
	if err != nil {
		return err
	}
	for more := !empty; more; {
		*w = where{idx: -1}
		k, err := s.key(&d.key)
		if err != nil {
			return err
		}
		switch string(k) {
		case "messageType":
			w.top = "messageType"
			err = d.str(s, &d.bs.messageType)
		case "owner":
			w.top = "owner"
			err = d.str(s, &d.bs.owner)
		case "logGroup":
			w.top = "logGroup"
			err = d.str(s, &d.bs.logGroup)
		case "logStream":
			w.top = "logStream"
			err = d.str(s, &d.bs.logStream)
		case "policyLevel":
			w.top = "policyLevel"
			err = d.str(s, &d.bs.policyLevel)
		case "subscriptionFilters":
			w.top = "subscriptionFilters"
			err = d.parseFilters(s, w)
		case "logEvents":
			w.top = "logEvents"
			err = d.parseEvents(s, w)
		default:
			err = s.skip(1)
		}
		if err != nil {
			return err
		}
		*w = where{idx: -1}
		if more, err = s.next('}'); err != nil {
			return err
		}
	}
	return s.end()
}

// str reads a string or null into d.strs.
func (d *Decoder) str(s *scanner, sp *span) error {
	if s.null() {
		*sp = span{}
		return nil
	}
	s.ws()
	raw, esc, err := s.str()
	if err != nil {
		return err
	}
	off := len(d.strs)
	if esc {
		if d.strs, err = appendUnescaped(d.strs, raw); err != nil {
			return err
		}
	} else {
		d.strs = append(d.strs, raw...)
	}
	*sp = span{uint32(off), uint32(len(d.strs))}
	return nil
}

func (d *Decoder) parseFilters(s *scanner, w *where) error {
	d.filters = d.filters[:0]
	if s.null() {
		return nil
	}
	empty, err := s.open('[', errWantArray)
	for more := !empty; more && err == nil; {
		w.idx = len(d.filters)
		var sp span
		if s.null() || s.peek() != '"' {
			return errWantString
		}
		if err = d.str(s, &sp); err != nil {
			return err
		}
		d.filters = append(d.filters, sp)
		w.idx = -1
		more, err = s.next(']')
	}
	return err
}

func (d *Decoder) parseEvents(s *scanner, w *where) error {
	d.meta = d.meta[:0]
	d.pairs = d.pairs[:0]
	d.batch.LogEvents = d.batch.LogEvents[:0]
	if s.null() {
		return nil
	}
	empty, err := s.open('[', errWantArray)
	for more := !empty; more && err == nil; {
		w.idx = len(d.batch.LogEvents)
		if err = d.parseEvent(s, w); err != nil {
			return err
		}
		w.idx, w.sub = -1, ""
		more, err = s.next(']')
	}
	return err
}

func (d *Decoder) parseEvent(s *scanner, w *where) error {
	d.batch.LogEvents = append(d.batch.LogEvents, LogEvent{})
	d.meta = append(d.meta, eventMeta{})
	i := len(d.meta) - 1
	ev, m := &d.batch.LogEvents[i], &d.meta[i]
	empty, err := s.open('{', errWantObject)
	if err != nil {
		return err
	}
	for more := !empty; more; {
		w.sub = ""
		k, err := s.key(&d.key)
		if err != nil {
			return err
		}
		switch string(k) {
		case "id":
			w.sub = "id"
			err = d.str(s, &m.id)
		case "timestamp":
			w.sub = "timestamp"
			if !s.null() {
				ev.Timestamp, err = s.int64()
			}
		case "message":
			w.sub = "message"
			ev.Message, m.msgArena = nil, false
			if s.null() {
				break
			}
			s.ws()
			raw, esc, serr := s.str()
			switch {
			case serr != nil:
				err = serr
			case !esc:
				ev.Message = raw
			default:
				off := len(d.arena)
				d.arena, err = appendUnescaped(d.arena, raw)
				m.msg, m.msgArena = span{uint32(off), uint32(len(d.arena))}, true
			}
		case "extractedFields":
			w.sub = "extractedFields"
			err = d.parseFields(s, i)
		default:
			err = s.skip(2)
		}
		if err != nil {
			return err
		}
		w.sub = ""
		if more, err = s.next('}'); err != nil {
			return err
		}
	}
	return nil
}

// parseFields reads an extractedFields object for event ev into d.pairs;
// null values are dropped.
func (d *Decoder) parseFields(s *scanner, ev int) error {
	if s.null() {
		return nil
	}
	empty, err := s.open('{', errWantObject)
	if err != nil {
		return err
	}
	for more := !empty; more; {
		k, err := s.key(&d.key)
		if err != nil {
			return err
		}
		if !s.null() {
			if s.peek() != '"' {
				return errWantString
			}
			p := pair{ev: ev}
			off := len(d.strs)
			d.strs = append(d.strs, k...)
			p.k = span{uint32(off), uint32(len(d.strs))}
			if err = d.str(s, &p.v); err != nil {
				return err
			}
			d.pairs = append(d.pairs, p)
		}
		if more, err = s.next('}'); err != nil {
			return err
		}
	}
	return nil
}

// finish builds d.batch from the scanned spans: every string of the batch
// comes from one conversion of d.strs.
func (d *Decoder) finish() {
	all := string(d.strs)
	get := func(sp span) string { return all[sp.off:sp.end] }
	b := &d.batch
	b.MessageType = get(d.bs.messageType)
	b.Owner = get(d.bs.owner)
	b.LogGroup = get(d.bs.logGroup)
	b.LogStream = get(d.bs.logStream)
	b.PolicyLevel = get(d.bs.policyLevel)
	b.SubscriptionFilters = b.SubscriptionFilters[:0]
	for _, sp := range d.filters {
		b.SubscriptionFilters = append(b.SubscriptionFilters, get(sp))
	}
	for i := range b.LogEvents {
		ev, m := &b.LogEvents[i], &d.meta[i]
		ev.ID = get(m.id)
		if m.msgArena {
			ev.Message = d.arena[m.msg.off:m.msg.end:m.msg.end]
		}
	}
	used := 0
	for i := 0; i < len(d.pairs); {
		ev := d.pairs[i].ev
		var m map[string]string
		if used < len(d.maps) {
			m = d.maps[used]
			clear(m)
		} else {
			m = make(map[string]string, 4)
			d.maps = append(d.maps, m)
		}
		used++
		for ; i < len(d.pairs) && d.pairs[i].ev == ev; i++ {
			m[get(d.pairs[i].k)] = get(d.pairs[i].v)
		}
		b.LogEvents[ev].ExtractedFields = m
	}
}

// eventData finds awslogs.data in a Lambda event.
func (d *Decoder) eventData(payload []byte) ([]byte, error) {
	s := scanner{buf: payload}
	w := where{idx: -1}
	data, found, err := d.scanEvent(&s, &w)
	if err != nil {
		return nil, &EnvelopeError{Path: w.path(), Offset: s.pos, Err: err}
	}
	if !found {
		return nil, &EnvelopeError{Offset: -1, Err: errNoData}
	}
	return data, nil
}

func (d *Decoder) scanEvent(s *scanner, w *where) (data []byte, found bool, _ error) {
	empty, err := s.open('{', errWantObject)
	if err != nil {
		return nil, false, err
	}
	for more := !empty; more; {
		w.top = ""
		k, err := s.key(&d.key)
		if err != nil {
			return nil, false, err
		}
		if string(k) != "awslogs" {
			err = s.skip(1)
		} else if w.top = "awslogs"; !s.null() {
			data, found, err = d.scanAWSLogs(s, w)
		}
		if err != nil {
			return nil, false, err
		}
		if more, err = s.next('}'); err != nil {
			return nil, false, err
		}
	}
	return data, found, s.end()
}

func (d *Decoder) scanAWSLogs(s *scanner, w *where) (data []byte, found bool, _ error) {
	empty, err := s.open('{', errWantObject)
	if err != nil {
		return nil, false, err
	}
	for more := !empty; more; {
		w.sub = ""
		k, err := s.key(&d.key)
		if err != nil {
			return nil, false, err
		}
		if string(k) != "data" {
			err = s.skip(2)
		} else {
			w.sub = "data"
			s.ws()
			raw, esc, serr := s.str()
			switch {
			case serr != nil:
				err = serr
			case esc:
				// Some encoders write "\/" for the '/' of base64.
				d.b64, err = appendUnescaped(d.b64[:0], raw)
				data, found = d.b64, true
			default:
				data, found = raw, true
			}
		}
		if err != nil {
			return nil, false, err
		}
		w.sub = ""
		if more, err = s.next('}'); err != nil {
			return nil, false, err
		}
	}
	return data, found, nil
}
