/*
 * html_page.h - the HTML report's inline style sheet and script
 * (html_page.c), written into the page by out_html.c.
 */
#ifndef SW_HTML_PAGE_H
#define SW_HTML_PAGE_H

extern const char sw_html_css[];
extern const char sw_html_js[];

#endif
