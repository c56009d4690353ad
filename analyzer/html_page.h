/*
 * html_page.h - the HTML report's style sheet and script: the files
 * analyzer/html/page.css and analyzer/html/page.js, embedded at build time
 * (the Makefile turns them into byte arrays with xxd -i), written into
 * the page by out_html.c.
 *
 * The script reads the report from the page's application/json block and
 * builds every element with textContent: trace strings never meet
 * innerHTML.  After drawing it writes data-ok="flame:N timeline:M
 * errors:K" on <body>, which the headless-browser test reads.
 */
#ifndef SW_HTML_PAGE_H
#define SW_HTML_PAGE_H

extern const unsigned char sw_html_css[];
extern const unsigned int sw_html_css_len;
extern const unsigned char sw_html_js[];
extern const unsigned int sw_html_js_len;

#endif
