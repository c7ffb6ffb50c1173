// The itinerary map: country shapes (world-atlas, no tiles), one point per located
// sign-in, one great-circle line per travel leg coloured by its verdict.
(function () {
  "use strict";
  var el = document.getElementById("map");
  var dataEl = document.getElementById("itinerary-data");
  if (!el || !dataEl || typeof L === "undefined") { return; }
  var data = JSON.parse(dataEl.textContent);
  var COLORS = { egress_change: "#2f7ed8", plausible: "#3a9b3a", improbable: "#e08a00", impossible: "#d62728" };

  var map = L.map(el, { worldCopyJump: false, minZoom: 1, maxZoom: 12, attributionControl: true,
                        zoomSnap: 0.25, preferCanvas: false });
  map.attributionControl.setPrefix(false);
  // DB-IP is credited only where its database located something (not for the logs' own locations)
  var fromDbip = (data.geo_sources || []).indexOf("mmdb") >= 0;
  map.attributionControl.addAttribution((fromDbip ?
    '<a href="https://db-ip.com" rel="noopener noreferrer">IP Geolocation by DB-IP</a> · ' : "") + "Natural Earth");
  map.setView([30, 10], 1.5);

  function greatCircle(a, b, steps) {
    // Spherical interpolation between two [lat, lon] points; longitudes are unwrapped so
    // a leg over the antimeridian is drawn the short way.
    var toRad = Math.PI / 180, toDeg = 180 / Math.PI;
    var lat1 = a[0] * toRad, lon1 = a[1] * toRad, lat2 = b[0] * toRad, lon2 = b[1] * toRad;
    var d = 2 * Math.asin(Math.sqrt(Math.pow(Math.sin((lat2 - lat1) / 2), 2) +
      Math.cos(lat1) * Math.cos(lat2) * Math.pow(Math.sin((lon2 - lon1) / 2), 2)));
    if (d < 1e-6) { return [a, b]; }
    var out = [], prevLon = null;
    for (var i = 0; i <= steps; i++) {
      var f = i / steps;
      var A = Math.sin((1 - f) * d) / Math.sin(d), B = Math.sin(f * d) / Math.sin(d);
      var x = A * Math.cos(lat1) * Math.cos(lon1) + B * Math.cos(lat2) * Math.cos(lon2);
      var y = A * Math.cos(lat1) * Math.sin(lon1) + B * Math.cos(lat2) * Math.sin(lon2);
      var z = A * Math.sin(lat1) + B * Math.sin(lat2);
      var lat = Math.atan2(z, Math.sqrt(x * x + y * y)) * toDeg;
      var lon = Math.atan2(y, x) * toDeg;
      if (prevLon !== null) {
        while (lon - prevLon > 180) { lon -= 360; }
        while (lon - prevLon < -180) { lon += 360; }
      }
      prevLon = lon;
      out.push([lat, lon]);
    }
    return out;
  }

  function text(s) { return s === null || s === undefined ? "" : String(s); }
  function esc(s) {
    return text(s).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
    });
  }

  var bounds = [];
  var lines = L.layerGroup().addTo(map);
  data.lines.forEach(function (t) {
    var path = greatCircle([t.from_latitude, t.from_longitude], [t.to_latitude, t.to_longitude], 48);
    var line = L.polyline(path, { color: COLORS[t.verdict] || "#555", weight: 3, opacity: 0.85,
                                  className: "vigil-line verdict-" + t.verdict });
    line.bindTooltip(esc(t.from_country) + " → " + esc(t.to_country) + ": <b>" + esc(t.verdict) + "</b><br>" +
      esc(t.reason), { sticky: true });
    line.addTo(lines);
    path.forEach(function (q) { bounds.push(q); });  // the view fits the arcs, not only their ends
  });

  var points = L.layerGroup().addTo(map);
  data.points.forEach(function (p) {
    var corp = p.is_corporate_egress === true;
    var failed = p.result && p.result !== "success";
    var m = L.circleMarker([p.geo_latitude, p.geo_longitude], {
      radius: corp ? 7 : 5, weight: corp ? 3 : 1.5, color: corp ? "#6a1b9a" : "#1b1b1b",
      fillColor: failed ? "#ff9896" : (corp ? "#ce93d8" : "#ffffff"), fillOpacity: 0.95,
      className: "vigil-point" + (corp ? " corporate" : "") });
    m.bindTooltip(esc(p.event_time.replace("T", " ").replace("Z", "")) + "<br>" + esc(p.geo_city) + " " +
      esc(p.geo_country) + " · " + esc(p.ip) + "<br>" + esc(p.ip_class) + (corp ? " (" + esc(p.egress_name) + ")" : "") +
      "<br>" + esc(p.app_name) + " · " + esc(p.result));
    m.addTo(points);
    bounds.push([p.geo_latitude, p.geo_longitude]);
  });

  el.setAttribute("data-drawn-points", String(data.points.length));
  el.setAttribute("data-drawn-lines", String(data.lines.length));
  if (bounds.length) {
    map.fitBounds(bounds, { padding: [40, 40], maxZoom: 5 });
  }

  // Country shapes under everything; drawn after the markers are placed so a slow
  // load never hides the data. Fetched from this server (no CDN, no tiles).
  fetch("/static/vendor/world-atlas/countries-50m.json", { credentials: "same-origin" })
    .then(function (r) { if (!r.ok) { throw new Error("world-atlas " + r.status); } return r.json(); })
    .then(function (topo) {
      var land = topojson.feature(topo, topo.objects.countries);
      var layer = L.geoJSON(land, { interactive: false,
        style: { color: "#9aa5b1", weight: 0.6, fillColor: "#e9edf1", fillOpacity: 1 } }).addTo(map);
      layer.bringToBack();
      el.setAttribute("data-countries", String(land.features.length));
    })
    .catch(function (err) {
      el.setAttribute("data-countries", "error");
      var note = document.createElement("p");
      note.className = "error";
      note.textContent = "Country shapes could not be loaded (" + err.message + "); run scripts/build-web.sh.";
      el.parentNode.insertBefore(note, el.nextSibling);
    });
}());
